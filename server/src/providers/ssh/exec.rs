//! Running a command on the cluster: one SSH channel per command, output capped, a deadline on
//! the whole exchange, optional standard input.
//!
//! Command lines are built from arguments quoted for a POSIX shell ([`line`], `shell-words`),
//! since SSH hands the line to the account's login shell as one string. They never carry a
//! value or a token: those travel as file contents over SFTP or on standard input.

use super::errors::{transport, SshError};
use super::host_key::HostKeyCheck;
use russh::client::Handle;
use russh::ChannelMsg;
use std::time::{Duration, Instant};

/// How long one command may take, from opening its channel to its exit status.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How much of each output stream is kept; the rest is counted and dropped.
const OUTPUT_CAP: usize = 64 * 1024;

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// `None` when the command ended without an exit status (killed by a signal).
    pub status: Option<u32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// The first line of standard error (or output), for a message: scheduler tools put their
    /// reason there. Bounded, so a chatty tool cannot fill a message.
    pub fn reason(&self) -> String {
        let text = if self.stderr.trim().is_empty() { &self.stdout } else { &self.stderr };
        let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no output");
        let mut reason: String = first.chars().take(300).collect();
        if let Some(status) = self.status {
            reason.push_str(&format!(" (exit status {status})"));
        }
        reason
    }
}

/// A command line from its arguments, each quoted for a POSIX shell.
pub fn line<S: AsRef<str>>(args: &[S]) -> String {
    shell_words::join(args.iter().map(AsRef::as_ref))
}

/// One argument quoted for a POSIX shell.
pub fn quote(arg: &str) -> String {
    shell_words::quote(arg).into_owned()
}

/// Runs `command` and waits for it, at most [`COMMAND_TIMEOUT`]. `stdin`, when given, is sent
/// and then closed.
pub async fn run(
    handle: &Handle<HostKeyCheck>,
    command: &str,
    stdin: Option<&[u8]>,
) -> Result<Output, SshError> {
    let program = command.split_whitespace().next().unwrap_or("command").to_owned();
    let started = Instant::now();
    let result = tokio::time::timeout(COMMAND_TIMEOUT, exchange(handle, command, stdin)).await;
    tracing::debug!(program, ms = started.elapsed().as_millis() as u64, "ssh command");
    match result {
        Ok(result) => result,
        Err(_) => Err(SshError::Timeout(format!(
            "the cluster did not finish '{program}' within {} s",
            COMMAND_TIMEOUT.as_secs()
        ))),
    }
}

async fn exchange(
    handle: &Handle<HostKeyCheck>,
    command: &str,
    stdin: Option<&[u8]>,
) -> Result<Output, SshError> {
    let mut channel = handle.channel_open_session().await.map_err(|e| transport("open a channel", &e))?;
    channel.exec(true, command).await.map_err(|e| transport("start a command", &e))?;
    if let Some(input) = stdin {
        channel.data(input).await.map_err(|e| transport("send a command's input", &e))?;
    }
    channel.eof().await.map_err(|e| transport("close a command's input", &e))?;
    let (mut stdout, mut stderr) = (Capped::default(), Capped::default());
    let mut status = None;
    while let Some(message) = channel.wait().await {
        match message {
            ChannelMsg::Data { data } => stdout.push(&data),
            ChannelMsg::ExtendedData { data, ext: 1 } => stderr.push(&data),
            ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
            _ => {}
        }
    }
    Ok(Output { status, stdout: stdout.text(), stderr: stderr.text() })
}

#[derive(Default)]
struct Capped {
    bytes: Vec<u8>,
    dropped: usize,
}

impl Capped {
    fn push(&mut self, data: &[u8]) {
        let room = OUTPUT_CAP.saturating_sub(self.bytes.len());
        self.bytes.extend_from_slice(&data[..data.len().min(room)]);
        self.dropped += data.len().saturating_sub(room);
    }

    fn text(self) -> String {
        let mut text = String::from_utf8_lossy(&self.bytes).into_owned();
        if self.dropped > 0 {
            text.push_str(&format!("\n[{} more bytes not kept]", self.dropped));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_argument_is_quoted_for_the_shell() {
        assert_eq!(line(&["sbatch", "-J", "sr-1", "/a b/head.sh"]), "sbatch -J sr-1 '/a b/head.sh'");
        assert_eq!(line(&["echo", "$(id)", "`x`", "a'b", "x;y"]), r#"echo '$(id)' '`x`' 'a'\''b' 'x;y'"#);
        assert_eq!(quote(""), "''");
        assert_eq!(shell_words::split(&line(&["a b", "c'd", "$e"])).unwrap(), ["a b", "c'd", "$e"]);
    }

    #[test]
    fn output_is_capped_and_the_reason_is_one_line() {
        let mut capped = Capped::default();
        capped.push(&vec![b'x'; OUTPUT_CAP + 10]);
        let text = capped.text();
        assert!(text.ends_with("[10 more bytes not kept]"), "{}", &text[text.len() - 40..]);
        let output = Output {
            status: Some(1),
            stdout: String::new(),
            stderr: "\nsbatch: error: invalid partition specified: nope\nmore".into(),
        };
        assert_eq!(output.reason(), "sbatch: error: invalid partition specified: nope (exit status 1)");
        assert!(!output.success());
    }
}
