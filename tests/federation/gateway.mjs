// An Apollo gateway composing our server and the inspections subgraph at start-up
// (IntrospectAndCompose), served on loopback. Telemetry is disabled by the test's
// environment (APOLLO_TELEMETRY_DISABLED=true); nothing leaves 127.0.0.1.
import { ApolloGateway, IntrospectAndCompose } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({
    subgraphs: [
      { name: "ocm", url: process.env.OCM_URL },
      { name: "inspections", url: process.env.INSPECTIONS_URL },
    ],
  }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: Number(process.env.PORT) },
});
console.log(`gateway ready at ${url}`);
