//! A managed Google environment end to end, with no stored key: the Check exchanges a real token
//! with a Google STS stand-in that verifies it against the running server's JWKS, then
//! impersonates the mapped service account (and explains each refusal with the values to fix);
//! two users get their own subjects and service accounts, copies and head jobs are made in the
//! Google fake with the exchanged tokens only, and the head job's credentials file lets it do the
//! same exchange itself with a token it fetches with its run token.

use super::{check, create_env, issuer_of, user_id, verify};
use crate::fakes::google_sts::{principal, GoogleStsStandIn, Provider, Trust};
use crate::fakes::gsm::FakeGsm;
use crate::helpers::*;
use crate::runs::{create_secret, head_job_jobs, launch, wait_for};
use base64::Engine;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const PROVIDER: &str =
    "projects/123456789012/locations/global/workloadIdentityPools/strongroom/providers/lab-oidc";
const ADA_SA: &str = "ada-pipelines@proj-managed.iam.gserviceaccount.com";
const BOB_SA: &str = "bob-pipelines@proj-managed.iam.gserviceaccount.com";
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
const SECRET_VALUE: &str = "managed-google-value-9c1d";

/// The token's audience: Google's default allowed audience of the provider.
fn audience() -> String {
    format!("https://iam.googleapis.com/{PROVIDER}")
}

/// A managed Google environment at `endpoint`, one mapping per (user, service account); its id.
async fn managed_env(
    app: &TestApp,
    owner: &Client,
    ws: i64,
    endpoint: &str,
    mappings: &[(i64, &str)],
) -> String {
    let mappings: Vec<Value> = mappings
        .iter()
        .map(|(user, sa)| json!({"userId": user, "workloadIdentityProvider": PROVIDER, "serviceAccount": sa}))
        .collect();
    let config = json!({ "projectId": "proj-managed", "location": "europe-west1", "workDir": "gs://lab/work",
        "endpointUrl": endpoint, "cloudIdentity": { "subject": "user", "mappings": mappings } });
    create_env(app, owner, ws, "gcp-managed", "google-batch", config).await
}

/// The provider as a cloud admin creates it from the identity view: Strongroom's issuer, the
/// default audience, a condition letting `subjects` through.
fn provider(issuer: &str, subjects: &[&str]) -> Provider {
    Provider {
        name: PROVIDER.into(),
        issuer_uri: issuer.into(),
        allowed_audiences: Vec::new(),
        subjects: Some(subjects.iter().map(|s| s.to_string()).collect()),
    }
}

/// `provider`, and `roles/iam.workloadIdentityUser` on each service account for a subject.
fn trust(provider: Provider, accounts: &[(&str, &str)]) -> Trust {
    let mut trust = Trust { providers: vec![provider], ..Trust::default() };
    for (account, sub) in accounts {
        trust.service_accounts.entry(account.to_string()).or_default().insert(principal(PROVIDER, sub));
    }
    trust
}

async fn message(app: &TestApp, who: &Client, ws: i64, env: &str) -> String {
    let outcome = check(app, who, ws, env).await;
    assert_eq!(outcome["status"], "INVALID", "{outcome}");
    outcome["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_check_exchanges_and_impersonates_and_explains_each_refusal_with_the_values_to_fix() {
    let fake = FakeGsm::start().await;
    let sts = GoogleStsStandIn::start(&fake.endpoint(), Trust::default()).await;
    let app = spawn_app().await;
    let owner = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&owner, "lab").await;
    let ada = user_id(&app, &owner).await;
    let env = managed_env(&app, &owner, ws, &sts.endpoint, &[(ada, ADA_SA)]).await;
    let issuer = issuer_of(&app);
    let sub = format!("org:{org}:wsp:{ws}:user:{ada}");

    // What a cloud admin must configure, with the exact values.
    let (status, view) =
        app.get_json(&owner, &format!("/api/compute-envs/{env}/identity?workspaceId={ws}")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["managed"], true);
    assert_eq!(view["issuer"], issuer.as_str());
    assert_eq!(view["audience"], audience());
    assert_eq!(view["yourSubject"], sub.as_str());
    let google_provider = view["subjects"][0]["googleProvider"].as_str().unwrap();
    assert!(google_provider.contains(&sub) && google_provider.contains(&issuer), "{google_provider}");

    // No such provider in the project.
    let said = message(&app, &owner, ws, &env).await;
    assert!(said.contains(&format!("Google has no workload identity provider {PROVIDER}")), "{said}");

    // A provider made for another issuer.
    sts.set_trust(trust(provider("https://elsewhere.example.org", &[&sub]), &[(ADA_SA, &sub)]));
    let said = message(&app, &owner, ws, &env).await;
    assert!(said.contains("expects the issuer") && said.contains(&issuer), "{said}");

    // A provider whose allowed audiences leave out the token's.
    let other_audience =
        Provider { allowed_audiences: vec!["some-other-audience".into()], ..provider(&issuer, &[&sub]) };
    sts.set_trust(trust(other_audience, &[(ADA_SA, &sub)]));
    let said = message(&app, &owner, ws, &env).await;
    assert!(said.contains(&format!("Google refused the token's audience '{}'", audience())), "{said}");

    // An attribute condition that lets another subject through: the sentence names this one.
    sts.set_trust(trust(provider(&issuer, &["org:0:wsp:0"]), &[(ADA_SA, &sub)]));
    let said = message(&app, &owner, ws, &env).await;
    assert!(
        said.contains("You don't have permission to act through workload identity provider")
            && said.contains(&format!("allow subject '{sub}'")),
        "{said}"
    );

    // The exchange passes but the service account does not trust the principal: the sentence
    // names the role to grant and the principal to grant it to.
    sts.set_trust(trust(provider(&issuer, &[&sub]), &[]));
    let said = message(&app, &owner, ws, &env).await;
    assert!(
        said.contains(&format!("You don't have permission to act as service account {ADA_SA}"))
            && said.contains("roles/iam.workloadIdentityUser")
            && said.contains(&principal(PROVIDER, &sub)),
        "{said}"
    );
    assert_eq!(
        sts.refused(),
        ["invalid_target", "invalid_grant", "invalid_grant", "unauthorized_client", "PERMISSION_DENIED"]
    );

    // Trusted: the Check passes, its calls to the fake made as the service account only.
    sts.set_trust(trust(provider(&issuer, &[&sub]), &[(ADA_SA, &sub)]));
    let outcome = check(&app, &owner, ws, &env).await;
    assert_eq!(outcome["status"], "AVAILABLE", "{outcome}");
    assert!(sts.granted().iter().all(|g| g.provider == PROVIDER && g.subject == sub), "{:?}", sts.granted());
    let impersonated = sts.impersonated();
    assert_eq!(impersonated.len(), 1, "{impersonated:?}");
    assert_eq!(
        (impersonated[0].service_account.as_str(), impersonated[0].subject.as_str()),
        (ADA_SA, sub.as_str())
    );
    let forwards = sts.authorized_forwards();
    assert!(!forwards.is_empty() && forwards.iter().all(|f| f.acting_as == ADA_SA), "{forwards:?}");
    assert_eq!(sts.refused().len(), 5, "no call reached the fake without an exchanged token");
}

#[tokio::test]
async fn each_user_runs_as_their_own_service_account_and_the_head_job_can_exchange_its_own_token() {
    let fake = FakeGsm::start().await;
    let sts = GoogleStsStandIn::start(&fake.endpoint(), Trust::default()).await;
    let app = spawn_app_with(head_job_jobs).await;
    let owner = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&owner, "lab").await;
    let bob = app.user(&owner, "bob@example.org").await;
    app.add_participant(&owner, org, ws, "bob@example.org", "launch").await;
    let (ada_id, bob_id) = (user_id(&app, &owner).await, user_id(&app, &bob).await);
    let env = managed_env(&app, &owner, ws, &sts.endpoint, &[(ada_id, ADA_SA), (bob_id, BOB_SA)]).await;
    let issuer = issuer_of(&app);
    let (ada_sub, bob_sub) =
        (format!("org:{org}:wsp:{ws}:user:{ada_id}"), format!("org:{org}:wsp:{ws}:user:{bob_id}"));
    sts.set_trust(trust(provider(&issuer, &[&ada_sub, &bob_sub]), &[(ADA_SA, &ada_sub), (BOB_SA, &bob_sub)]));
    create_secret(&app, &owner, Some(ws), "DB_PASSWORD", SECRET_VALUE).await;

    // Bob may not pick Ada's identity.
    let body = json!({"pipeline": "nf-core/demo", "computeEnvId": env, "workspaceSecrets": ["DB_PASSWORD"],
        "cloudIdentityMapping": 0});
    let (status, refused) = launch(&app, &bob, ws, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("not one of those mapped for you"), "{refused}");

    let mut runs = Vec::new();
    for (who, sa, sub) in [(&owner, ADA_SA, &ada_sub), (&bob, BOB_SA, &bob_sub)] {
        let body =
            json!({"pipeline": "nf-core/demo", "computeEnvId": env, "workspaceSecrets": ["DB_PASSWORD"]});
        let (status, launched) = launch(&app, who, ws, body).await;
        assert_eq!(status, StatusCode::OK, "{launched}");
        let wf = launched["workflowId"].as_str().unwrap().to_string();
        wait_for(&app, who, ws, &wf, |run| run["jobInfo"]["operationId"].is_string()).await;
        assert!(
            sts.impersonated().iter().any(|i| i.service_account == sa && i.subject == *sub),
            "{sa} for {sub}: {:?}",
            sts.impersonated()
        );
        // The copy and the head job were made as the launcher's own service account.
        let forwards = sts.authorized_forwards();
        let made_as =
            |what: &str| forwards.iter().find(|f| f.call.starts_with("POST ") && f.call.contains(what));
        let copy =
            made_as(&format!("secretId=tower-{wf}-DB_PASSWORD")).expect("the copy went through the stand-in");
        assert_eq!(copy.acting_as, sa, "{copy:?}");
        let job_id = server::providers::gcp::head_job_id(&app.services().await.install_id, &wf);
        let job = made_as(&format!("jobs?jobId={job_id}")).expect("the head job went through the stand-in");
        assert_eq!(job.acting_as, sa, "{job:?}");
        assert!(fake.secrets().contains_key(&format!("tower-{wf}-DB_PASSWORD")), "the copy of {wf}");
        runs.push((wf, sa, sub.clone()));
    }
    assert!(sts.refused().is_empty(), "{:?}", sts.refused());

    // The head job is given an external account credentials file naming the stand-in, and the URL
    // where its run token fetches the token that file is filled with.
    let (wf, sa, sub) = &runs[0];
    let job = fake
        .jobs()
        .into_values()
        .find(|j| j.body["labels"]["workflow-id"] == wf.to_lowercase())
        .expect("Ada's head job");
    assert!(!job.body.to_string().contains(SECRET_VALUE), "the secret's value reached the job");
    let variables = &job.body["taskGroups"][0]["taskSpec"]["environment"]["variables"];
    assert_eq!(variables["GOOGLE_APPLICATION_CREDENTIALS"], "/tmp/strongroom-head/google-credentials.json");
    assert_eq!(variables["SR_IDENTITY_TOKEN_URL"], format!("{issuer}/api/trace/{wf}/identity-token"));
    let credentials: Value =
        serde_json::from_str(variables["SR_GOOGLE_CREDENTIALS"].as_str().unwrap()).unwrap();
    assert_eq!(credentials["type"], "external_account");
    assert_eq!(credentials["audience"], format!("//iam.googleapis.com/{PROVIDER}"));
    assert_eq!(credentials["subject_token_type"], "urn:ietf:params:oauth:token-type:jwt");
    assert_eq!(credentials["token_url"], format!("{}/v1/token", sts.endpoint));
    assert_eq!(credentials["credential_source"]["file"], "/tmp/strongroom-head/web-identity-token");
    assert_eq!(credentials["credential_source"]["format"]["type"], "text");
    assert_eq!(
        credentials["service_account_impersonation_url"],
        format!("{}/v1/projects/-/serviceAccounts/{sa}:generateAccessToken", sts.endpoint)
    );

    let run_token = client_with_bearer(variables["TOWER_ACCESS_TOKEN"].as_str().unwrap());
    let answer = send(run_token.post(app.url(&format!("/api/trace/{wf}/identity-token")))).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let token = answer.text().await.unwrap();
    let claims = verify(&app, &audience(), &token, false).await.expect("the head job's token verifies");
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["workflow_id"], wf.as_str());

    // What Google's client libraries do with that file, step by step: exchange, impersonate,
    // read the run's copy as the service account.
    let text = |v: &Value| v.as_str().unwrap().to_string();
    let http = Client::new();
    let exchanged = send(http.post(text(&credentials["token_url"])).form(&[
        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
        ("audience", &text(&credentials["audience"])),
        ("scope", CLOUD_PLATFORM),
        ("requested_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ("subject_token_type", &text(&credentials["subject_token_type"])),
        ("subject_token", &token),
    ]))
    .await;
    assert_eq!(exchanged.status(), StatusCode::OK);
    let federated = text(&exchanged.json::<Value>().await.unwrap()["access_token"]);
    let impersonation = http
        .post(text(&credentials["service_account_impersonation_url"]))
        .bearer_auth(&federated)
        .json(&json!({ "scope": [CLOUD_PLATFORM], "lifetime": "3600s" }));
    let answer = send(impersonation).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let sa_token = text(&answer.json::<Value>().await.unwrap()["accessToken"]);
    let access = format!(
        "{}/v1/projects/proj-managed/secrets/tower-{wf}-DB_PASSWORD/versions/latest:access",
        sts.endpoint
    );
    let answer = send(http.get(access).bearer_auth(&sa_token)).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let data = text(&answer.json::<Value>().await.unwrap()["payload"]["data"]);
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(data).unwrap(), SECRET_VALUE.as_bytes());
}
