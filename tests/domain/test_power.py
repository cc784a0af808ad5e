import pytest

from gql.domain.power import effective_power_kw


@pytest.mark.parametrize(
    ("power", "amps", "voltage", "current_type", "expected"),
    [
        (22.0, 32, 230.0, 20, 22.0),  # a recorded power wins
        (None, 32, 230.0, 10, 7.4),  # single phase: 32 x 230 / 1000 = 7.36
        (0.0, 32, 230.0, 10, 7.4),  # 0 counts as missing
        (None, 16, 400.0, 20, 11.1),  # three phase: 16 x 400 x 1.732 / 1000 = 11.0848
        (None, 32, 400.0, 20, 22.2),  # 22.1696
        (None, 125, 500.0, 30, 62.5),  # DC has no phase factor
        (None, None, 230.0, 10, None),
        (None, 16, None, 10, None),
        (None, 0, 230.0, 10, None),  # amps must be above 0
        (0.0, 0, 230.0, 10, 0.0),  # nothing to derive: the stored 0 stays
        (None, 16, -230.0, 10, None),
        (None, None, None, None, None),
    ],
)
def test_effective_power(
    power: float | None,
    amps: int | None,
    voltage: float | None,
    current_type: int | None,
    expected: float | None,
) -> None:
    assert effective_power_kw(power, amps, voltage, current_type) == expected
