//! The IAM policies an AWS Batch compute environment needs, generated as pretty JSON ready to
//! copy (shown by preflight and in the UI). Follows "IAM the platform needs (AWS)" in the
//! conventions: the platform principal, the Batch execution role and the Nextflow head job role.
//!
//! Every resource is narrowed to `tower-*`, except `secretsmanager:ListSecrets` and
//! `batch:DescribeJobDefinitions`, which AWS only authorizes on `*`. Without ListSecrets on `*`
//! Strongroom cannot find copies left behind, so it must not be narrowed.

use serde_json::{json, Value};

/// What the policies are scoped to. `account` is `None` when unknown: the ARNs then carry `*`.
#[derive(Debug, Clone, Default)]
pub struct PolicyScope<'a> {
    pub region: &'a str,
    pub account: Option<&'a str>,
    /// The Batch execution role the platform passes to job definitions (`iam:PassRole`).
    pub execution_role_arn: Option<&'a str>,
    /// A customer-managed KMS key the copies are encrypted with, when not the AWS-managed one.
    pub kms_key_id: Option<&'a str>,
    /// The queue the head job is submitted to (`headQueue`, else `computeQueue`), when known.
    pub head_queue: Option<&'a str>,
    /// The role the head job runs as (`headJobRole`), passed with its job definition.
    pub head_job_role_arn: Option<&'a str>,
}

/// The managed policy every Batch execution role carries (pull images, write logs).
pub const ECS_TASK_EXECUTION_POLICY_ARN: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";

impl PolicyScope<'_> {
    /// The partition (`aws`, `aws-cn`, `aws-us-gov`) the region belongs to.
    fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    /// The account: the one given, else the execution role's, else `*`.
    fn account(&self) -> String {
        self.account
            .map(str::to_string)
            .or_else(|| self.execution_role_arn.and_then(account_of_arn))
            .unwrap_or_else(|| "*".into())
    }

    fn copies_arn(&self) -> String {
        format!("arn:{}:secretsmanager:{}:{}:secret:tower-*", self.partition(), self.region, self.account())
    }

    fn job_definitions_arn(&self) -> String {
        format!("arn:{}:batch:{}:{}:job-definition/tower-*", self.partition(), self.region, self.account())
    }

    /// The head queue's ARN (a queue given as an ARN is taken as it is), else every queue.
    fn head_queue_arn(&self) -> String {
        match self.head_queue {
            Some(arn) if arn.starts_with("arn:") => arn.to_string(),
            queue => format!(
                "arn:{}:batch:{}:{}:job-queue/{}",
                self.partition(),
                self.region,
                self.account(),
                queue.unwrap_or("*")
            ),
        }
    }

    fn jobs_arn(&self) -> String {
        format!("arn:{}:batch:{}:{}:job/*", self.partition(), self.region, self.account())
    }

    /// The KMS key's ARN, when the key is given as one (an alias or bare id cannot be scoped).
    fn kms_key_arn(&self) -> Option<&str> {
        self.kms_key_id.filter(|k| k.starts_with("arn:") && k.contains(":key/"))
    }
}

/// The account id inside an ARN (`arn:aws:iam::123456789012:role/x` → `123456789012`).
pub fn account_of_arn(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| account.to_string())
}

fn document(statements: Vec<Value>) -> String {
    let policy = json!({ "Version": "2012-10-17", "Statement": statements });
    serde_json::to_string_pretty(&policy).expect("a JSON value always serializes")
}

/// The policy of the principal Strongroom's credentials belong to.
pub fn platform_policy(scope: &PolicyScope<'_>) -> String {
    let mut statements = vec![
        json!({
            "Sid": "FindCopiesToDelete",
            "Effect": "Allow",
            "Action": ["secretsmanager:ListSecrets"],
            "Resource": "*"
        }),
        json!({
            "Sid": "ManagePerRunCopies",
            "Effect": "Allow",
            "Action": [
                "secretsmanager:CreateSecret",
                "secretsmanager:DescribeSecret",
                "secretsmanager:DeleteSecret",
                "secretsmanager:TagResource"
            ],
            "Resource": scope.copies_arn()
        }),
        json!({
            "Sid": "DescribeJobDefinitions",
            "Effect": "Allow",
            "Action": ["batch:DescribeJobDefinitions"],
            "Resource": "*"
        }),
        json!({
            "Sid": "ManagePerRunJobDefinitions",
            "Effect": "Allow",
            "Action": [
                "batch:RegisterJobDefinition",
                "batch:DeregisterJobDefinition",
                "batch:TagResource"
            ],
            "Resource": scope.job_definitions_arn()
        }),
    ];
    // The head job: submitted to the head queue with the run's definition (tagged as it is
    // submitted), followed, and stopped when its run ends. DescribeJobs and ListJobs are only
    // authorized on "*".
    statements.extend([
        json!({
            "Sid": "FollowHeadJobs",
            "Effect": "Allow",
            "Action": ["batch:DescribeJobs", "batch:ListJobs"],
            "Resource": "*"
        }),
        json!({
            "Sid": "SubmitHeadJobsToTheHeadQueue",
            "Effect": "Allow",
            "Action": ["batch:SubmitJob"],
            "Resource": scope.head_queue_arn()
        }),
        json!({
            "Sid": "SubmitHeadJobsWithTheirDefinitions",
            "Effect": "Allow",
            "Action": ["batch:SubmitJob"],
            "Resource": scope.job_definitions_arn()
        }),
        json!({
            "Sid": "TagAndStopHeadJobs",
            "Effect": "Allow",
            "Action": ["batch:TagResource", "batch:TerminateJob"],
            "Resource": scope.jobs_arn()
        }),
    ]);
    let role = scope.execution_role_arn.map(str::to_string).unwrap_or_else(|| {
        format!("arn:{}:iam::{}:role/<the Batch execution role>", scope.partition(), scope.account())
    });
    statements.push(json!({
        "Sid": "PassTheExecutionRole",
        "Effect": "Allow",
        "Action": ["iam:PassRole"],
        "Resource": role
    }));
    if let Some(head_role) = scope.head_job_role_arn {
        statements.push(json!({
            "Sid": "PassTheHeadJobRole",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": head_role
        }));
    }
    if let Some(key) = scope.kms_key_arn() {
        statements.push(json!({
            "Sid": "EncryptCopies",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"],
            "Resource": key
        }));
    }
    document(statements)
}

/// The inline policy of the Batch execution role (attach `AmazonECSTaskExecutionRolePolicy`
/// beside it): the ECS agent reads the copies named in the job definition with this role.
pub fn execution_role_policy(scope: &PolicyScope<'_>) -> String {
    let mut statements = vec![json!({
        "Sid": "ReadPerRunCopies",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": scope.copies_arn()
    })];
    if let Some(key) = scope.kms_key_arn() {
        statements.push(json!({
            "Sid": "DecryptCopies",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": key
        }));
    }
    document(statements)
}

/// The policy of the Nextflow head job's role: Nextflow lists secrets to check the names a
/// pipeline asks for.
pub fn head_job_role_policy() -> String {
    document(vec![json!({
        "Sid": "NextflowChecksSecretNames",
        "Effect": "Allow",
        "Action": ["secretsmanager:ListSecrets"],
        "Resource": "*"
    })])
}

/// The three policies with a line each saying where they go: the `fix` of an AWS preflight
/// failure.
pub fn fix_text(scope: &PolicyScope<'_>) -> String {
    format!(
        "Attach these IAM policies, then run the check again.\n\n\
         1. To the user or role whose credentials Strongroom uses:\n{}\n\n\
         2. To the Batch execution role (beside the managed policy {}):\n{}\n\n\
         3. To the Nextflow head job role:\n{}\n",
        platform_policy(scope),
        ECS_TASK_EXECUTION_POLICY_ARN,
        execution_role_policy(scope),
        head_job_role_policy(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(policy: &str) -> Vec<Value> {
        let doc: Value = serde_json::from_str(policy).expect("the policy is JSON");
        assert_eq!(doc["Version"], "2012-10-17");
        doc["Statement"].as_array().expect("statements").clone()
    }

    /// The resource each action is granted on.
    fn grants(policy: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for s in statements(policy) {
            assert_eq!(s["Effect"], "Allow");
            for a in s["Action"].as_array().unwrap() {
                out.push((a.as_str().unwrap().to_string(), s["Resource"].as_str().unwrap().to_string()));
            }
        }
        out
    }

    fn resource_of(grants: &[(String, String)], action: &str) -> String {
        grants.iter().find(|(a, _)| a == action).unwrap_or_else(|| panic!("{action} missing")).1.clone()
    }

    const ROLE: &str = "arn:aws:iam::123456789012:role/strongroom-batch-exec";

    #[test]
    fn platform_policy_lists_on_star_and_manages_only_tower_copies() {
        let scope = PolicyScope { region: "eu-west-1", execution_role_arn: Some(ROLE), ..Default::default() };
        let g = grants(&platform_policy(&scope));
        assert_eq!(resource_of(&g, "secretsmanager:ListSecrets"), "*");
        let copies = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:tower-*";
        for action in ["CreateSecret", "DescribeSecret", "DeleteSecret", "TagResource"] {
            assert_eq!(resource_of(&g, &format!("secretsmanager:{action}")), copies);
        }
        let jobs = "arn:aws:batch:eu-west-1:123456789012:job-definition/tower-*";
        assert_eq!(resource_of(&g, "batch:RegisterJobDefinition"), jobs);
        assert_eq!(resource_of(&g, "batch:DeregisterJobDefinition"), jobs);
        assert_eq!(resource_of(&g, "batch:DescribeJobDefinitions"), "*");
        assert_eq!(resource_of(&g, "iam:PassRole"), ROLE);
        assert_eq!(resource_of(&g, "batch:DescribeJobs"), "*");
        assert_eq!(resource_of(&g, "batch:ListJobs"), "*");
        assert_eq!(resource_of(&g, "batch:SubmitJob"), "arn:aws:batch:eu-west-1:123456789012:job-queue/*");
        assert_eq!(resource_of(&g, "batch:TerminateJob"), "arn:aws:batch:eu-west-1:123456789012:job/*");
        let submit: Vec<&str> =
            g.iter().filter(|(a, _)| a == "batch:SubmitJob").map(|(_, r)| r.as_str()).collect();
        assert_eq!(submit, ["arn:aws:batch:eu-west-1:123456789012:job-queue/*", jobs]);
        assert!(
            !g.iter().any(|(a, _)| a == "secretsmanager:GetSecretValue"),
            "the platform never reads copies"
        );
    }

    #[test]
    fn the_head_job_is_submitted_to_its_queue_and_passes_its_role() {
        let head = "arn:aws:iam::123456789012:role/nextflow-head";
        let scope = PolicyScope {
            region: "eu-west-1",
            execution_role_arn: Some(ROLE),
            head_queue: Some("head"),
            head_job_role_arn: Some(head),
            ..Default::default()
        };
        let g = grants(&platform_policy(&scope));
        assert_eq!(resource_of(&g, "batch:SubmitJob"), "arn:aws:batch:eu-west-1:123456789012:job-queue/head");
        let passed: Vec<&str> =
            g.iter().filter(|(a, _)| a == "iam:PassRole").map(|(_, r)| r.as_str()).collect();
        assert_eq!(passed, [ROLE, head]);
    }

    #[test]
    fn an_unknown_account_becomes_a_wildcard_and_china_uses_its_partition() {
        let scope = PolicyScope { region: "cn-north-1", ..Default::default() };
        let g = grants(&platform_policy(&scope));
        assert_eq!(
            resource_of(&g, "secretsmanager:CreateSecret"),
            "arn:aws-cn:secretsmanager:cn-north-1:*:secret:tower-*"
        );
    }

    #[test]
    fn execution_role_reads_tower_copies_and_decrypts_with_the_given_key() {
        let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let scope = PolicyScope {
            region: "us-east-1",
            account: Some("123456789012"),
            kms_key_id: Some(key),
            ..Default::default()
        };
        let g = grants(&execution_role_policy(&scope));
        assert_eq!(
            resource_of(&g, "secretsmanager:GetSecretValue"),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:tower-*"
        );
        assert_eq!(resource_of(&g, "kms:Decrypt"), key);
        assert_eq!(resource_of(&grants(&platform_policy(&scope)), "kms:GenerateDataKey"), key);
    }

    #[test]
    fn head_job_role_lists_secrets_on_star() {
        assert_eq!(grants(&head_job_role_policy()), vec![("secretsmanager:ListSecrets".into(), "*".into())]);
    }

    #[test]
    fn fix_text_holds_all_three_policies_and_the_managed_policy() {
        let text = fix_text(&PolicyScope { region: "us-east-1", ..Default::default() });
        assert!(text.contains(ECS_TASK_EXECUTION_POLICY_ARN));
        assert_eq!(text.matches("\"Version\": \"2012-10-17\"").count(), 3);
    }

    #[test]
    fn account_comes_from_a_well_formed_arn_only() {
        assert_eq!(account_of_arn(ROLE).as_deref(), Some("123456789012"));
        assert_eq!(account_of_arn("arn:aws:iam::x:role/y"), None);
        assert_eq!(account_of_arn("nonsense"), None);
    }
}
