//! A managed AWS environment end to end, with no stored keys: the Check exchanges a real token
//! with an STS stand-in that verifies it against the running server's JWKS (and explains each
//! refusal with the values to fix), two users get their own subjects and roles, copies are made
//! in moto with the exchanged credentials, and the head job fetches its own token with its run
//! token only.

use super::{aws_trust, check, create_env, head_job_environment, issuer_of, user_id, verify};
use crate::fakes::aws_env::EXEC_ROLE;
use crate::fakes::moto::Moto;
use crate::fakes::sts::{StsStandIn, Trust};
use crate::helpers::*;
use crate::runs::{create_secret, head_job_jobs, launch, wait_for};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const ADA_ROLE: &str = "arn:aws:iam::123456789012:role/ada-pipelines";
const BOB_ROLE: &str = "arn:aws:iam::123456789012:role/bob-pipelines";

/// A managed AWS environment at `endpoint`, one mapping per (user, role); its id.
async fn managed_env(
    app: &TestApp,
    owner: &Client,
    ws: i64,
    endpoint: &str,
    mappings: &[(i64, &str)],
) -> String {
    let mappings: Vec<Value> =
        mappings.iter().map(|(user, role)| json!({"userId": user, "roleArn": role})).collect();
    let config = json!({ "region": "us-east-1", "computeQueue": "q", "executionRole": EXEC_ROLE,
        "endpointUrl": endpoint, "cloudIdentity": { "subject": "user", "mappings": mappings } });
    create_env(app, owner, ws, "aws-managed", "aws-batch", config).await
}

#[tokio::test]
async fn the_check_exchanges_a_real_token_and_explains_each_refusal_with_the_values_to_fix() {
    let moto = Moto::start().await;
    let sts = StsStandIn::start(&moto.endpoint, Trust::default()).await;
    let app = spawn_app().await;
    let owner = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&owner, "lab").await;
    let ada = user_id(&app, &owner).await;
    let env = managed_env(&app, &owner, ws, &sts.endpoint, &[(ada, ADA_ROLE)]).await;
    let issuer = issuer_of(&app);
    let sub = format!("org:{org}:wsp:{ws}:user:{ada}");

    // What a cloud admin must trust, with the exact values.
    let (status, view) =
        app.get_json(&owner, &format!("/api/compute-envs/{env}/identity?workspaceId={ws}")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["managed"], true);
    assert_eq!(view["issuer"], issuer.as_str());
    assert_eq!(view["audience"], "sts.amazonaws.com");
    assert_eq!(view["yourSubject"], sub.as_str());
    assert_eq!(view["subjects"][0]["subject"], sub.as_str());
    assert_eq!(view["subjects"][0]["mapsTo"], ADA_ROLE);
    let policy: Value =
        serde_json::from_str(view["subjects"][0]["awsTrustPolicy"].as_str().unwrap()).unwrap();
    let host = issuer.trim_start_matches("http://");
    assert_eq!(policy["Statement"][0]["Condition"]["StringEquals"][format!("{host}:sub")], sub.as_str());

    // No IAM OIDC provider for the issuer in the account.
    let outcome = check(&app, &owner, ws, &env).await;
    assert_eq!(outcome["status"], "INVALID", "{outcome}");
    let message = outcome["message"].as_str().unwrap();
    assert!(message.contains(&format!("no IAM OIDC identity provider for {issuer}")), "{message}");

    // A provider whose audience is not the token's.
    sts.set_trust(aws_trust(&issuer, &["some-other-audience"], &[(ADA_ROLE, &sub)]));
    let message = check(&app, &owner, ws, &env).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("refused the token's audience 'sts.amazonaws.com'"), "{message}");

    // The role does not trust this subject: the sentence names the subject and the condition.
    sts.set_trust(aws_trust(&issuer, &["sts.amazonaws.com"], &[(ADA_ROLE, "org:0:wsp:0")]));
    let message = check(&app, &owner, ws, &env).await["message"].as_str().unwrap().to_string();
    assert!(
        message.contains(&format!("You don't have permission to act as role {ADA_ROLE}"))
            && message.contains(&format!("allow subject '{sub}'"))
            && message.contains(&format!("'{host}:sub'")),
        "{message}"
    );
    assert_eq!(sts.refused(), ["InvalidIdentityToken", "InvalidIdentityToken", "AccessDenied"]);

    // Trusted: the Check passes, as the role, in moto.
    sts.set_trust(aws_trust(&issuer, &["sts.amazonaws.com"], &[(ADA_ROLE, &sub)]));
    let outcome = check(&app, &owner, ws, &env).await;
    assert_eq!(outcome["status"], "AVAILABLE", "{outcome}");
    let granted = sts.granted();
    assert_eq!(granted.len(), 1, "{granted:?}");
    assert_eq!((granted[0].role_arn.as_str(), granted[0].subject.as_str()), (ADA_ROLE, sub.as_str()));
    assert_eq!(granted[0].session_name, format!("strongroom-u{ada}-check"));

    // Per-user mappings may name participants by email (stored by id); anyone else is refused.
    let config = |email: &str| {
        json!({ "config": { "region": "us-east-1", "computeQueue": "q",
        "executionRole": EXEC_ROLE, "endpointUrl": sts.endpoint, "cloudIdentity": { "subject": "user",
        "mappings": [{ "userEmail": email, "roleArn": ADA_ROLE }] } } })
    };
    let path = format!("/api/compute-envs/{env}?workspaceId={ws}");
    let (status, body) = app.send_json(&owner, Method::PUT, &path, config("stranger@example.org")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("stranger@example.org takes no part in this workspace"),
        "{body}"
    );
    let (status, body) = app.send_json(&owner, Method::PUT, &path, config(&ADMIN_EMAIL.to_uppercase())).await;
    assert!(status.is_success(), "{body}");
    let (_, described) = app.get_json(&owner, &path).await;
    let mapping = &described["computeEnv"]["config"]["cloudIdentity"]["mappings"][0];
    assert_eq!(mapping["userId"], ada, "{described}");
    assert!(mapping.get("userEmail").is_none(), "{described}");

    // Stored keys cannot be added to a managed environment.
    let (status, body) = app
        .send_json(
            &owner,
            Method::POST,
            &format!("/api/credentials?workspaceId={ws}"),
            json!({ "credentials": { "name": "keys", "provider": "aws",
                "keys": { "accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" } } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .send_json(
            &owner,
            Method::PUT,
            &format!("/api/compute-envs/{env}?workspaceId={ws}"),
            json!({ "credentialsId": body["credentialsId"] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("takes no credentials"), "{body}");
}

#[tokio::test]
async fn each_user_runs_as_their_own_subject_and_role_and_the_head_job_alone_fetches_its_token() {
    let moto = Moto::start().await;
    let sts = StsStandIn::start(&moto.endpoint, Trust::default()).await;
    let app = spawn_app_with(head_job_jobs).await;
    let owner = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&owner, "lab").await;
    let bob = app.user(&owner, "bob@example.org").await;
    app.add_participant(&owner, org, ws, "bob@example.org", "launch").await;
    let (ada_id, bob_id) = (user_id(&app, &owner).await, user_id(&app, &bob).await);
    let env = managed_env(&app, &owner, ws, &sts.endpoint, &[(ada_id, ADA_ROLE), (bob_id, BOB_ROLE)]).await;
    let issuer = issuer_of(&app);
    let (ada_sub, bob_sub) =
        (format!("org:{org}:wsp:{ws}:user:{ada_id}"), format!("org:{org}:wsp:{ws}:user:{bob_id}"));
    sts.set_trust(aws_trust(&issuer, &["sts.amazonaws.com"], &[(ADA_ROLE, &ada_sub), (BOB_ROLE, &bob_sub)]));
    create_secret(&app, &owner, Some(ws), "DB_PASSWORD", "managed-identity-value-7f3e").await;

    // Bob may not pick Ada's identity.
    let body = json!({"pipeline": "nf-core/demo", "computeEnvId": env, "workspaceSecrets": ["DB_PASSWORD"],
        "cloudIdentityMapping": 0});
    let (status, refused) = launch(&app, &bob, ws, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("not one of those mapped for you"), "{refused}");

    let mut runs = Vec::new();
    for (who, role, sub, id) in [(&owner, ADA_ROLE, &ada_sub, ada_id), (&bob, BOB_ROLE, &bob_sub, bob_id)] {
        let body =
            json!({"pipeline": "nf-core/demo", "computeEnvId": env, "workspaceSecrets": ["DB_PASSWORD"]});
        let (status, launched) = launch(&app, who, ws, body).await;
        assert_eq!(status, StatusCode::OK, "{launched}");
        let wf = launched["workflowId"].as_str().unwrap().to_string();
        wait_for(&app, who, ws, &wf, |run| run["jobInfo"]["operationId"].is_string()).await;
        let session = format!("strongroom-u{id}-{wf}");
        assert!(
            sts.granted()
                .iter()
                .any(|g| g.role_arn == role && g.subject == *sub && g.session_name == session),
            "{role} for {sub} as {session}: {:?}",
            sts.granted()
        );
        runs.push((wf, role, sub.clone()));
    }

    // The copies were made in moto with the exchanged credentials.
    let secrets = moto.secrets_client().await;
    for (wf, _, _) in &runs {
        let name = format!("tower-{wf}/DB_PASSWORD");
        secrets.describe_secret().secret_id(&name).send().await.unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }

    // The head job acts as the role with a token file it fills with its run token.
    let (wf, role, sub) = &runs[0];
    let environment = head_job_environment(&moto, wf).await;
    assert_eq!(environment["AWS_ROLE_ARN"], *role);
    assert_eq!(environment["AWS_WEB_IDENTITY_TOKEN_FILE"], "/tmp/strongroom-head/web-identity-token");
    assert_eq!(environment["SR_IDENTITY_TOKEN_URL"], format!("{issuer}/api/trace/{wf}/identity-token"));
    let run_token = client_with_bearer(&environment["TOWER_ACCESS_TOKEN"]);
    let answer = send(run_token.post(app.url(&format!("/api/trace/{wf}/identity-token")))).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let token = answer.text().await.unwrap();
    let claims =
        verify(&app, "sts.amazonaws.com", &token, false).await.expect("the head job's token verifies");
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["workflow_id"], wf.as_str());
    assert_eq!(claims["user_id"], ada_id.to_string());

    // Nobody else fetches it: not the launcher's session, not another run's token.
    let answer = send(owner.post(app.url(&format!("/api/trace/{wf}/identity-token")))).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let answer = send(run_token.post(app.url(&format!("/api/trace/{}/identity-token", runs[1].0)))).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);

    // Once the run has ended, no more tokens.
    let (status, _) = app
        .send_json(&owner, Method::POST, &format!("/api/workflow/{wf}/cancel?workspaceId={ws}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = send(run_token.post(app.url(&format!("/api/trace/{wf}/identity-token")))).await;
    assert!(
        matches!(answer.status(), StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED),
        "{}",
        answer.status()
    );
}
