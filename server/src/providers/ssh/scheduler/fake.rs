//! A runner that answers from canned outputs of the real tools, for the status tests.

use super::{Output, Runner, SshError};
use async_trait::async_trait;
use std::sync::Mutex;

/// Answers the first command whose line starts with a given prefix; records every line.
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
        self.lines.lock().unwrap().push(line.to_owned());
        self.answers
            .iter()
            .find(|(prefix, _)| line.starts_with(prefix))
            .map(|(_, output)| output.clone())
            .ok_or_else(|| SshError::Rejected(format!("no canned answer for {line}")))
    }
}
