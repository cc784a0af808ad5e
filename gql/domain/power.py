"""OCM's effective power rule, the single place it is computed.

OCM's API reports ``PowerKW`` as stored, or, when that is missing or 0, derives it from
amps and voltage (times sqrt(3) for three-phase AC), rounded to one decimal.
"""

from __future__ import annotations

THREE_PHASE_AC = 20
THREE_PHASE_FACTOR = 1.732


def effective_power_kw(
    power_kw: float | None,
    amps: int | None,
    voltage: float | None,
    current_type_id: int | None,
) -> float | None:
    if power_kw:
        return power_kw
    if amps is not None and voltage is not None and amps > 0 and voltage > 0:
        watts = amps * voltage
        if current_type_id == THREE_PHASE_AC:
            watts *= THREE_PHASE_FACTOR
        return round(watts / 1000, 1)
    return power_kw
