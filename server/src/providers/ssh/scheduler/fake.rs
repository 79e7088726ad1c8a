//! A runner that answers from canned outputs of the real tools, for the status tests.

use super::{Output, Runner, SshError};
use async_trait::async_trait;
use std::sync::Mutex;

/// Answers the first command whose line starts with a given prefix; records every line. A
/// prefix given more than once answers with each of its outputs in turn, then the last again
/// (a job's state as it changes).
pub struct FakeRunner {
    answers: Vec<(&'static str, Output)>,
    pub lines: Mutex<Vec<String>>,
}

pub fn ok(stdout: &str) -> Output {
    Output { status: Some(0), stdout: stdout.into(), stderr: String::new() }
}

pub fn fails(status: u32, stderr: &str) -> Output {
    Output { status: Some(status), stdout: String::new(), stderr: stderr.into() }
}

impl FakeRunner {
    pub fn new(answers: Vec<(&'static str, Output)>) -> FakeRunner {
        FakeRunner { answers, lines: Mutex::new(Vec::new()) }
    }

    pub fn ran(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

#[async_trait]
impl Runner for FakeRunner {
    async fn run(&self, line: &str) -> Result<Output, SshError> {
        let mut lines = self.lines.lock().unwrap();
        let Some((prefix, _)) = self.answers.iter().find(|(prefix, _)| line.starts_with(prefix)) else {
            return Err(SshError::Rejected(format!("no canned answer for {line}")));
        };
        // The earlier lines this prefix answered tell which of its outputs comes now.
        let asked = lines.iter().filter(|l| l.starts_with(prefix)).count();
        lines.push(line.to_owned());
        let outputs: Vec<&Output> =
            self.answers.iter().filter(|(p, _)| p == prefix).map(|(_, output)| output).collect();
        Ok(outputs[asked.min(outputs.len() - 1)].clone())
    }
}
