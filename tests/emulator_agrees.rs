//! The operator and the emulator each keep DataZone's enums they validate (the emulator plays
//! the service, so it must not take them from the product it tests); this checks the two copies
//! say the same.

use std::collections::BTreeSet;

#[test]
fn the_operator_and_the_emulator_accept_the_same_timezones() {
    let operator: BTreeSet<&str> = datazone_operator::crd::TIMEZONES.iter().copied().collect();
    let emulator: BTreeSet<&str> = datazone_emulator::datazone::data_sources::TIMEZONES.iter().copied().collect();
    assert_eq!(operator.len(), 64, "the model's Timezone enum has 64 values");
    let only_operator: Vec<_> = operator.difference(&emulator).collect();
    let only_emulator: Vec<_> = emulator.difference(&operator).collect();
    assert!(
        only_operator.is_empty() && only_emulator.is_empty(),
        "only in src/crd/schedule.rs: {only_operator:?}; only in the emulator: {only_emulator:?}"
    );
}
