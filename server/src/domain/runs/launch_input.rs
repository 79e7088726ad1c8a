//! What a launch and Nextflow's trace reports may say about a run: the pipeline, revision, run
//! name, project name and session id. These end up on Nextflow's command line, in the launch
//! command's environment, in pages and in the audit trail, so each has a length and a character
//! set, and nothing may start with `-` (it would read as an option on a command line).
//! Every refusal says what is allowed.

use app::error::AppError;

const PIPELINE_MAX: usize = 300;
const RUN_NAME_MAX: usize = 80;
const REVISION_MAX: usize = 100;
const PROJECT_NAME_MAX: usize = 200;

/// A repository URL (`https://`, `http://`, `git://`, `ssh://`, or `git@host:owner/repo`) or a
/// Nextflow project name (`owner/repo`, or `repo` for Nextflow's default organisation).
pub fn check_pipeline(pipeline: &str) -> Result<(), AppError> {
    if pipeline.is_empty() {
        return Err(AppError::bad_request(
            "Choose a pipeline to launch (a repository URL or a name like nf-core/rnaseq).",
        ));
    }
    let fits =
        pipeline.len() <= PIPELINE_MAX && !pipeline.chars().any(|c| c.is_control() || c.is_whitespace());
    if fits && !pipeline.starts_with('-') && (is_repository_url(pipeline) || is_project_name(pipeline)) {
        return Ok(());
    }
    Err(AppError::bad_request(format!(
        "A pipeline is a repository URL (https://, http://, git://, ssh:// or git@host:owner/repo) or a \
         project name like nf-core/rnaseq, of up to {PIPELINE_MAX} characters, without spaces."
    )))
}

fn is_repository_url(value: &str) -> bool {
    if let Some(rest) = value.strip_prefix("git@") {
        // scp-like: git@host:owner/repo(.git)
        return rest.split_once(':').is_some_and(|(host, path)| {
            is_host(host) && !path.is_empty() && !path.starts_with('-') && path.chars().all(is_path_char)
        });
    }
    let Ok(url) = url::Url::parse(value) else { return false };
    matches!(url.scheme(), "https" | "http" | "git" | "ssh")
        && url.host_str().is_some_and(|h| !h.is_empty() && !h.starts_with('-'))
        && url.path().len() > 1
}

fn is_host(host: &str) -> bool {
    !host.is_empty()
        && !host.starts_with('-')
        && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_./~".contains(c)
}

fn is_project_name(value: &str) -> bool {
    let segment = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && !s.starts_with('-')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    match value.split_once('/') {
        Some((owner, repo)) => segment(owner) && segment(repo),
        None => segment(value),
    }
}

/// A git branch, tag or commit: `[A-Za-z0-9._/-]`, 1 to 100, not starting with `-`, `/` or `.`,
/// no `..` or `//`, not ending with `/`, `.` or `.lock` (git's own ref rules, simplified).
pub fn check_revision(revision: &str) -> Result<(), AppError> {
    let ok = (1..=REVISION_MAX).contains(&revision.len())
        && revision.chars().all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
        && !revision.starts_with(['-', '/', '.'])
        && !revision.ends_with(['/', '.'])
        && !revision.ends_with(".lock")
        && !revision.contains("..")
        && !revision.contains("//");
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "A revision is a branch, tag or commit of up to {REVISION_MAX} letters, digits, '.', '_', '/' or \
             '-', not starting with '-', '/' or '.'."
        )))
    }
}

/// Nextflow run names: letters, digits, `-` and `_`, starting with a letter, up to 80.
pub fn check_run_name(name: &str) -> Result<(), AppError> {
    let ok = name.len() <= RUN_NAME_MAX
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "A run name starts with a letter and has up to {RUN_NAME_MAX} letters, digits, '-' or '_'."
        )))
    }
}

/// Nextflow's project name in a trace report: up to 200 printable characters.
pub fn check_project_name(name: &str) -> Result<(), AppError> {
    if name.chars().count() <= PROJECT_NAME_MAX
        && !name.chars().any(char::is_control)
        && !name.starts_with('-')
    {
        Ok(())
    } else {
        Err(AppError::bad_request(format!(
            "A project name has up to {PROJECT_NAME_MAX} printable characters and does not start with '-'."
        )))
    }
}

/// Nextflow's session id: a UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`).
pub fn check_session_id(session_id: &str) -> Result<(), AppError> {
    if session_id.len() == 36 && uuid::Uuid::try_parse(session_id).is_ok() {
        Ok(())
    } else {
        Err(AppError::bad_request("A session id is a UUID (like 1b6a3f3e-6f3c-4c1e-9a57-0c2d1f6f3a10)."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelines_are_repository_urls_or_project_names() {
        for ok in [
            "nf-core/rnaseq",
            "hello",
            "nextflow-io/hello.nf",
            "https://github.com/nf-core/rnaseq",
            "https://gitlab.example.org/group/sub/pipe.git",
            "http://git.lab.local/pipe",
            "git://example.org/pipe.git",
            "ssh://git@example.org/owner/pipe.git",
            "git@github.com:nf-core/rnaseq.git",
        ] {
            assert!(check_pipeline(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-resume",
            "--help",
            "nf-core/-x",
            "-x/rnaseq",
            "a/b/c",
            "../etc",
            "file:///etc/passwd",
            "https://",
            "https://-evil.example/x",
            "nf-core/rna seq",
            "nf-core/rnaseq\n-with-trace",
            "git@-oProxyCommand=x:owner/repo",
            "owner/repo;rm",
        ] {
            assert!(check_pipeline(bad).is_err(), "{bad:?}");
        }
        assert!(check_pipeline(&format!("owner/{}", "a".repeat(300))).is_err());
    }

    #[test]
    fn revisions_follow_git_ref_rules() {
        for ok in ["main", "v1.2.3", "release/2024-01", "3f2a9c1", "feature_x"] {
            assert!(check_revision(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-x",
            "--upload-pack=evil",
            "/main",
            ".hidden",
            "a..b",
            "a//b",
            "main/",
            "x.lock",
            "a b",
            "a;b",
        ] {
            assert!(check_revision(bad).is_err(), "{bad:?}");
        }
        assert!(check_revision(&"a".repeat(100)).is_ok());
        assert!(check_revision(&"a".repeat(101)).is_err());
    }

    #[test]
    fn run_names_follow_nextflow_rules() {
        assert!(check_run_name("rnaseq-test_1").is_ok());
        assert!(check_run_name("1abc").is_err());
        assert!(check_run_name("-abc").is_err());
        assert!(check_run_name("has space").is_err());
        assert!(check_run_name(&"a".repeat(81)).is_err());
    }

    #[test]
    fn project_names_and_session_ids() {
        assert!(check_project_name("nf-core/rnaseq").is_ok());
        assert!(check_project_name("https://github.com/x/y").is_ok());
        assert!(check_project_name(&"p".repeat(201)).is_err());
        assert!(check_project_name("a\u{1b}[31m").is_err());
        assert!(check_session_id("1b6a3f3e-6f3c-4c1e-9a57-0c2d1f6f3a10").is_ok());
        for bad in
            ["", "not-a-uuid", "1b6a3f3e6f3c4c1e9a570c2d1f6f3a10", "{1b6a3f3e-6f3c-4c1e-9a57-0c2d1f6f3a1}"]
        {
            assert!(check_session_id(bad).is_err(), "{bad}");
        }
    }
}
