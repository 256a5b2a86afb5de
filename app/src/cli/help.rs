//! Which options each command lists. The installation's options (data
//! directory, database, secrets key, model environments) are global, so
//! that they may come before or after a command's name, and clap would
//! list every one of them under every command. Here each is hidden from the
//! help of the commands that never read it: the client commands, which
//! talk to a server over HTTP, read none of them. A hidden option is still
//! accepted, so a shell alias that always passes `--data-dir` keeps working.

use clap::{Arg, ArgMatches, Args, CommandFactory, FromArgMatches, Id};

use super::Cli;
use super::environments::EnvironmentArgs;

/// Commands that talk to a modelrun server over HTTP (`exec`: to its job
/// API, from inside a model's container): no installation option applies.
const CLIENTS: [&str; 5] = ["runs", "schedules", "sweeps", "budgets", "exec"];
/// Commands that never build a model environment.
const NO_ENVIRONMENTS: [&str; 4] = ["migrate", "users", "tokens", "secrets"];
/// Commands that never seal or open a model secret.
const NO_SECRETS_KEY: [&str; 4] = ["migrate", "models", "users", "tokens"];
/// Options that the server commands share but one of them never reads:
/// `serve` runs no model and builds no environment, `worker` answers no
/// page or API request.
const NOT_READ: [(&str, &[&str]); 2] = [
    (
        "serve",
        &[
            "max_concurrent_runs",
            "sandbox",
            "max_output_mib",
            "max_log_mib",
        ],
    ),
    (
        "worker",
        &["run_visibility", "max_sweep_runs", "max_upload_mib"],
    ),
];

/// The command line as clap reads it, each command listing only the
/// options it reads.
pub(super) fn command() -> clap::Command {
    let environments = ids(EnvironmentArgs::augment_args(clap::Command::new("")));
    let command = Cli::command();
    let globals: Vec<Arg> = command
        .get_arguments()
        .filter(|arg| arg.is_global_set())
        .cloned()
        .collect();
    // A command that has an option of its own under a global option's name
    // gets no copy of it; a hidden copy is one, and clap hands it on to
    // the commands below.
    command.mut_subcommands(|sub| {
        let name = sub.get_name().to_owned();
        let sub = globals
            .iter()
            .filter(|arg| unused(&name, arg.get_id(), &environments))
            .fold(sub, |sub, arg| sub.arg(arg.clone().hide(true)));
        let own = NOT_READ
            .iter()
            .filter(|(command, _)| *command == name)
            .flat_map(|(_, ids)| ids.iter());
        // Before clap builds the command, so its lookup of names is made
        // after the change.
        own.fold(sub, |sub, id| sub.mut_arg(id, |arg| arg.hide(true)))
    })
}

/// Whether the command `name` never reads the global option `id`.
fn unused(name: &str, id: &Id, environments: &[Id]) -> bool {
    // How logs are written applies to every command, clients included.
    (CLIENTS.contains(&name) && id != "log_format")
        || ((NO_ENVIRONMENTS.contains(&name) || name == "serve") && environments.contains(id))
        || (NO_SECRETS_KEY.contains(&name) && id == "secrets_key")
}

/// Parses this process's arguments; a mistake or `--help` ends the process
/// with clap's message, as `Cli::parse` would.
pub(super) fn parse() -> Cli {
    parse_matches(command().get_matches())
}

/// Parses `args` (the program's name first).
pub(super) fn parse_from<I, T>(args: I) -> Cli
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    parse_matches(command().get_matches_from(args))
}

fn parse_matches(matches: ArgMatches) -> Cli {
    Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

fn ids(command: clap::Command) -> Vec<Id> {
    command
        .get_arguments()
        .map(|arg| arg.get_id().clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::command;

    /// The long help of the command at `path`.
    fn help(path: &[&str]) -> String {
        let mut command = command();
        // Hands the global options on to every command, as parsing does.
        command.build();
        let mut current = &mut command;
        for name in path {
            current = current.find_subcommand_mut(name).expect("a command");
        }
        current.render_long_help().to_string()
    }

    #[test]
    fn client_commands_list_no_installation_option() {
        for path in [
            &["runs", "submit"][..],
            &["runs", "list"],
            &["schedules", "create"],
            &["sweeps", "submit"],
            &["budgets", "list"],
            &["exec"],
        ] {
            let text = help(path);
            for option in [
                "--data-dir",
                "--database-url",
                "--db-max-connections",
                "--no-migrate",
                "--secrets-key",
                "--pip-index-url",
                "--environment-installer",
            ] {
                assert!(!text.contains(option), "{path:?} lists {option}:\n{text}");
            }
            assert!(text.contains("--log-format"), "{path:?}:\n{text}");
        }
        assert!(help(&["runs", "submit"]).contains("--url"));
    }

    #[test]
    fn server_commands_list_what_they_read() {
        let up = help(&["up"]);
        for option in [
            "--data-dir",
            "--database-url",
            "--secrets-key",
            "--pip-index-url",
        ] {
            assert!(up.contains(option), "up lacks {option}");
        }
        let users = help(&["users", "create"]);
        assert!(users.contains("--database-url"), "{users}");
        assert!(!users.contains("--pip-index-url"), "{users}");
        assert!(!users.contains("--secrets-key"), "{users}");
        let register = help(&["models", "register"]);
        assert!(register.contains("--pip-index-url"), "{register}");
        assert!(help(&["secrets", "set"]).contains("--secrets-key"));
        let serve = help(&["serve"]);
        assert!(!serve.contains("--max-concurrent-runs"), "{serve}");
        assert!(!serve.contains("--pip-index-url"), "{serve}");
        assert!(serve.contains("--run-visibility"), "{serve}");
        let worker = help(&["worker"]);
        assert!(!worker.contains("--run-visibility"), "{worker}");
        assert!(worker.contains("--max-concurrent-runs"), "{worker}");
    }

    /// Every option and argument a command lists says what it is.
    #[test]
    fn every_listed_option_has_help() {
        fn check(command: &clap::Command, path: &str) {
            for arg in command.get_arguments() {
                if arg.is_hide_set() || arg.get_id() == "help" || arg.get_id() == "version" {
                    continue;
                }
                assert!(
                    arg.get_help().is_some() || arg.get_long_help().is_some(),
                    "{path}: {} has no help",
                    arg.get_id()
                );
            }
            for sub in command.get_subcommands() {
                check(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        let mut command = command();
        command.build();
        check(&command, "modelrun");
    }

    #[test]
    fn a_hidden_option_is_still_accepted() {
        let parsed = command().try_get_matches_from([
            "modelrun",
            "runs",
            "list",
            "--data-dir",
            "/nonexistent",
        ]);
        assert!(parsed.is_ok(), "{parsed:?}");
    }
}
