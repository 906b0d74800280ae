//! The one place suggested shell commands are built. Every value from an event is
//! quoted here, so a hostile username or group name pasted from an alert can never
//! run as a command or become an option of its own.

/// Quotes a value for POSIX shells.
pub fn sh(value: &str) -> String {
    let plain = !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if plain {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r#"'\''"#))
    }
}

/// `aws iam get-role` printing the exact ARN (path included) of the role named `name`.
pub fn role_arn_by_name(name: &str) -> Command {
    Command::new("aws iam get-role").arg("--role-name", name).literal("--query Role.Arn --output text")
}

/// A command line under construction: a trusted program and subcommand, then quoted
/// arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    line: String,
}

impl Command {
    /// `program` is literal text written by this crate (`aws eks list-access-entries`), never an event value.
    pub fn new(program: &'static str) -> Command {
        Command { line: program.to_string() }
    }

    /// `FLAG VALUE`, quoted; `FLAG=VALUE` when the value starts with `-`, which the
    /// command would otherwise read as an option.
    pub fn arg(mut self, flag: &str, value: &str) -> Command {
        self.line.push(' ');
        self.line.push_str(flag);
        self.line.push(if value.starts_with('-') { '=' } else { ' ' });
        self.line.push_str(&sh(value));
        self
    }

    /// `arg` when there is a value; nothing otherwise.
    pub fn arg_if(self, flag: &str, value: Option<&str>) -> Command {
        match value.filter(|v| !v.is_empty()) {
            Some(value) => self.arg(flag, value),
            None => self,
        }
    }

    /// A flag taking several values. A list with a value starting with `-` goes as
    /// one JSON argument, which the AWS CLI accepts for lists, so no value can
    /// become an option.
    pub fn list(mut self, flag: &str, values: &[&str]) -> Command {
        match values {
            [] => self,
            [value] => self.arg(flag, value),
            many if many.iter().any(|v| v.starts_with('-')) => {
                let json = serde_json::to_string(many).unwrap_or_default();
                self.line.push_str(&format!(" {flag}={}", sh(&json)));
                self
            }
            many => {
                self.line.push(' ');
                self.line.push_str(flag);
                for value in many {
                    self.line.push(' ');
                    self.line.push_str(&sh(value));
                }
                self
            }
        }
    }

    /// A bare flag or literal argument written by this crate (`--output text`).
    pub fn literal(mut self, text: &'static str) -> Command {
        self.line.push(' ');
        self.line.push_str(text);
        self
    }

    /// A final positional argument, quoted; one starting with `-` goes after `--`,
    /// so it can never be read as an option. Nothing may follow it.
    pub fn last_positional(mut self, value: &str) -> Command {
        if value.starts_with('-') {
            self.line.push_str(" --");
        }
        self.line.push(' ');
        self.line.push_str(&sh(value));
        self
    }

    /// `--region R` when the region is known.
    pub fn region(self, region: &str) -> Command {
        self.arg_if("--region", Some(region))
    }

    /// `$(…)`: the output of another built command as one argument of this one.
    pub fn arg_from(mut self, flag: &str, inner: &Command) -> Command {
        self.line.push_str(&format!(" {flag} \"$({})\"", inner.line));
        self
    }
}

impl From<Command> for String {
    fn from(command: Command) -> String {
        command.line
    }
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quotes_hostile_values() {
        assert_eq!(sh("prod-eu"), "prod-eu");
        assert_eq!(sh("arn:aws:iam::1:role/x"), "arn:aws:iam::1:role/x");
        assert_eq!(sh("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(sh("it's"), r#"'it'\''s'"#);
        assert_eq!(sh(""), "''");
    }

    #[test]
    fn values_never_become_options() {
        let line = String::from(Command::new("aws eks x").arg("--username", "--help").list("--kubernetes-groups", &["a", "-b"]));
        assert_eq!(line, r#"aws eks x --username=--help --kubernetes-groups='["a","-b"]'"#);
        let line = String::from(Command::new("aws eks x").list("--kubernetes-groups", &["a b", "c"]).region("").arg_if("--u", None));
        assert_eq!(line, "aws eks x --kubernetes-groups 'a b' c");
        let line = Command::new("kubectl create clusterrolebinding").arg("--group", "-g").last_positional("-n").to_string();
        assert_eq!(line, "kubectl create clusterrolebinding --group=-g -- -n");
    }

    #[test]
    fn nests_commands_as_one_argument() {
        let inner = Command::new("aws iam get-policy").arg("--policy-arn", "arn:aws:iam::1:policy/B").literal("--output text");
        let outer =
            Command::new("aws iam get-policy-version").arg("--policy-arn", "arn:aws:iam::1:policy/B").arg_from("--version-id", &inner);
        assert_eq!(
            outer.to_string(),
            r#"aws iam get-policy-version --policy-arn arn:aws:iam::1:policy/B --version-id "$(aws iam get-policy --policy-arn arn:aws:iam::1:policy/B --output text)""#
        );
    }
}
