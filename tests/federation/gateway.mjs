// An Apollo gateway composing our server and the inspections subgraph at start-up
// (IntrospectAndCompose), served on loopback. Telemetry is disabled by the test's
// environment (APOLLO_TELEMETRY_DISABLED=true); nothing leaves 127.0.0.1.
//
// The gateway passes a caller's W3C trace headers (traceparent, tracestate) on to the
// subgraphs, as a traced gateway would, so a subgraph's spans join the caller's trace.
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({
    subgraphs: [
      { name: "ocm", url: process.env.OCM_URL },
      { name: "inspections", url: process.env.INSPECTIONS_URL },
    ],
  }),
  buildService: ({ url }) =>
    new RemoteGraphQLDataSource({
      url,
      willSendRequest({ request, context }) {
        for (const name of ["traceparent", "tracestate"]) {
          const value = context.headers?.[name];
          if (value) request.http.headers.set(name, value);
        }
      },
    }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(process.env.PORT) },
  context: async ({ req }) => ({ headers: req.headers }),
});
console.log(`gateway ready at ${url}`);
