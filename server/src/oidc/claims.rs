//! What a Strongroom token says: the registered claims and the discrete ids a cloud's trust policy
//! can match on, and the subject (`sub`) built from ids only, at the granularity the compute
//! environment's administrator chose. Names (workspace, pipeline, user) can be changed by users,
//! so none of them is ever part of `sub`.

pub use app::model::SubjectGranularity as Granularity;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The facts of one launch a token describes (ids, never names).
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub org_id: i64,
    pub workspace_id: i64,
    pub user_id: i64,
    /// The pipeline's repository as launched (hashed into `sub`, stated as is in `pipeline`).
    pub pipeline: String,
    /// Absent for the Check's dry run, which belongs to no run.
    pub workflow_id: Option<String>,
    pub compute_env_id: String,
    /// The launcher's role in the workspace (`owner`, `admin`, `maintain`, `launch`).
    pub launch_role: String,
}

/// The claims of every token this issuer signs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub org_id: String,
    pub workspace_id: String,
    pub user_id: String,
    pub pipeline: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<String>,
    pub compute_env_id: String,
    pub launch_role: String,
}

/// `org:<orgId>:wsp:<wsId>`, then `:pipeline:<hash>` or `:user:<userId>` by granularity.
pub fn subject(granularity: Granularity, facts: &RunFacts) -> String {
    let base = format!("org:{}:wsp:{}", facts.org_id, facts.workspace_id);
    match granularity {
        Granularity::Workspace => base,
        Granularity::Pipeline => format!("{base}:pipeline:{}", pipeline_hash(&facts.pipeline)),
        Granularity::User => format!("{base}:user:{}", facts.user_id),
    }
}

/// A stable short hash of a pipeline repository: the same repository written with a trailing
/// slash, a `.git` suffix or another letter case in its host gives the same subject.
pub fn pipeline_hash(pipeline: &str) -> String {
    let trimmed = pipeline.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(".git").unwrap_or(trimmed);
    let normalized = match url::Url::parse(trimmed) {
        Ok(url) => url.as_str().trim_end_matches('/').to_string(),
        Err(_) => trimmed.to_string(),
    };
    hex::encode(&Sha256::digest(normalized.as_bytes())[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(user_id: i64, pipeline: &str) -> RunFacts {
        RunFacts {
            org_id: 3,
            workspace_id: 7,
            user_id,
            pipeline: pipeline.into(),
            workflow_id: None,
            compute_env_id: "ce1".into(),
            launch_role: "launch".into(),
        }
    }

    #[test]
    fn subjects_are_built_from_ids_at_the_chosen_granularity() {
        let ada = facts(11, "https://github.com/nf-core/rnaseq");
        assert_eq!(subject(Granularity::Workspace, &ada), "org:3:wsp:7");
        assert_eq!(subject(Granularity::User, &ada), "org:3:wsp:7:user:11");
        assert_eq!(subject(Granularity::User, &facts(12, "x")), "org:3:wsp:7:user:12");
        let pipeline = subject(Granularity::Pipeline, &ada);
        assert!(
            pipeline.starts_with("org:3:wsp:7:pipeline:")
                && pipeline.len() == "org:3:wsp:7:pipeline:".len() + 16
        );
        for same in [
            "https://GitHub.com/nf-core/rnaseq/",
            "https://github.com/nf-core/rnaseq.git",
            " https://github.com/nf-core/rnaseq ",
        ] {
            assert_eq!(subject(Granularity::Pipeline, &facts(99, same)), pipeline, "{same}");
        }
        assert_ne!(subject(Granularity::Pipeline, &facts(11, "https://github.com/nf-core/sarek")), pipeline);
    }
}
