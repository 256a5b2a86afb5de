//! The command line's own shape, checked option by option.

use clap::{ArgAction, CommandFactory};

use super::Cli;

/// Every option that reads an environment variable, in every subcommand.
fn options_with_variables(command: &clap::Command) -> Vec<clap::Arg> {
    let mut found: Vec<clap::Arg> = command
        .get_arguments()
        .filter(|arg| arg.get_env().is_some())
        .cloned()
        .collect();
    for sub in command.get_subcommands() {
        found.extend(options_with_variables(sub));
    }
    found
}

/// A switch set from the environment takes the spellings people write
/// there (pip's `PIP_NO_INDEX=1` among them), not only `true` and `false`.
#[test]
fn every_switch_read_from_the_environment_takes_the_usual_spellings() {
    let switches: Vec<clap::Arg> = options_with_variables(&Cli::command())
        .into_iter()
        .filter(|arg| matches!(arg.get_action(), ArgAction::SetTrue))
        .collect();
    let names: Vec<String> = switches
        .iter()
        .filter_map(|arg| arg.get_env()?.to_str().map(str::to_owned))
        .collect();
    for expected in ["PIP_NO_INDEX", "MODELRUN_NO_MIGRATE", "MODELRUN_NO_EXAMPLE"] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
    for arg in &switches {
        let accepted: Vec<String> = arg
            .get_value_parser()
            .possible_values()
            .map(|values| values.map(|v| v.get_name().to_owned()).collect())
            .unwrap_or_default();
        for spelling in ["1", "0", "yes", "no", "on", "off", "true", "false"] {
            assert!(
                accepted.iter().any(|a| a == spelling),
                "{:?} refuses {spelling}: it accepts {accepted:?}",
                arg.get_env()
            );
        }
    }
}
