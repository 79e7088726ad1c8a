//! An Azure app registration beside a managed AWS role, end to end: the Check exchanges a real
//! token at a Microsoft Entra ID stand-in that verifies it against the running server's JWKS as
//! Azure does (and explains each refusal with the values to fix), two users act as their own
//! subjects and apps, and each head job gets Azure's workload identity variables and fetches an
//! Azure token with its run token only, which the stand-in accepts as the app's client assertion.

use super::{aws_trust, check, create_env, head_job_environment, issuer_of, user_id, verify};
use crate::fakes::aws_env::EXEC_ROLE;
use crate::fakes::azure_login::{AzureLoginStandIn, FederatedCredential, Trust as AzureTrust};
use crate::fakes::moto::Moto;
use crate::fakes::sts::{StsStandIn, Trust};
use crate::helpers::*;
use crate::runs::{head_job_jobs, launch, wait_for};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;

const ADA_ROLE: &str = "arn:aws:iam::123456789012:role/ada-pipelines";
const BOB_ROLE: &str = "arn:aws:iam::123456789012:role/bob-pipelines";
const TENANT: &str = "0b0b0b0b-1111-2222-3333-444444444444";
const ADA_APP: &str = "a1a1a1a1-aaaa-bbbb-cccc-dddddddddddd";
const BOB_APP: &str = "b2b2b2b2-aaaa-bbbb-cccc-dddddddddddd";
const AZURE_AUDIENCE: &str = "api://AzureADTokenExchange";

/// A per-user managed AWS environment whose mappings add an Azure app each; its id.
async fn managed_env(
    app: &TestApp,
    owner: &Client,
    ws: i64,
    endpoint: &str,
    users: &[(i64, &str, &str)],
) -> String {
    let mappings: Vec<Value> = users
        .iter()
        .map(|(user, role, client)| json!({"userId": user, "roleArn": role, "tenantId": TENANT, "clientId": client}))
        .collect();
    let config = json!({ "region": "us-east-1", "computeQueue": "q", "executionRole": EXEC_ROLE,
        "endpointUrl": endpoint, "cloudIdentity": { "subject": "user", "mappings": mappings } });
    create_env(app, owner, ws, "aws-and-azure", "aws-batch", config).await
}

/// A directory with `TENANT` holding the given apps, each with its federated credentials.
fn azure_trust(apps: &[(&str, Vec<FederatedCredential>)]) -> AzureTrust {
    let apps = apps.iter().map(|(client, credentials)| (client.to_string(), credentials.clone())).collect();
    AzureTrust { tenants: HashMap::from([(TENANT.to_string(), apps)]) }
}

fn credential(issuer: &str, subject: &str) -> FederatedCredential {
    FederatedCredential { issuer: issuer.into(), subject: subject.into(), audience: AZURE_AUDIENCE.into() }
}

async fn started() -> (Moto, StsStandIn, AzureLoginStandIn) {
    let moto = Moto::start().await;
    let sts = StsStandIn::start(&moto.endpoint, Trust::default()).await;
    let azure = AzureLoginStandIn::start(AzureTrust::default()).await;
    (moto, sts, azure)
}

#[tokio::test]
async fn the_check_exchanges_a_real_token_with_azure_and_explains_each_refusal() {
    let (_moto, sts, azure) = started().await;
    let authority = azure.authority.clone();
    let app = spawn_app_with(move |config| config.azure_authority_host = authority).await;
    let owner = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&owner, "lab").await;
    let ada = user_id(&app, &owner).await;
    let env = managed_env(&app, &owner, ws, &sts.endpoint, &[(ada, ADA_ROLE, ADA_APP)]).await;
    let issuer = issuer_of(&app);
    let sub = format!("org:{org}:wsp:{ws}:user:{ada}");
    sts.set_trust(aws_trust(&issuer, &["sts.amazonaws.com"], &[(ADA_ROLE, &sub)]));

    // What an Azure admin must add, ready to copy: the command names the app, the file the values.
    let (status, view) =
        app.get_json(&owner, &format!("/api/compute-envs/{env}/identity?workspaceId={ws}")).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let mapped = &view["subjects"][0];
    assert!(
        mapped["mapsTo"]
            .as_str()
            .unwrap()
            .contains(&format!("Azure app registration {ADA_APP} in tenant {TENANT}")),
        "{view}"
    );
    let ready = mapped["azureFederatedCredential"].as_str().unwrap();
    assert!(ready.contains(&format!("az ad app federated-credential create --id {ADA_APP}")), "{ready}");
    let file: Value = serde_json::from_str(&ready[ready.find('{').unwrap()..]).unwrap();
    assert_eq!(
        (file["issuer"].as_str(), file["subject"].as_str()),
        (Some(issuer.as_str()), Some(sub.as_str()))
    );
    assert_eq!(file["audiences"][0], AZURE_AUDIENCE);

    // The AWS role is trusted, Azure's tenant does not know the app: the Check says which id is wrong.
    azure.set_trust(azure_trust(&[]));
    let message = |outcome: Value| {
        assert_eq!(outcome["status"], "INVALID", "{outcome}");
        outcome["message"].as_str().unwrap().to_string()
    };
    let said = message(check(&app, &owner, ws, &env).await);
    assert!(
        said.contains(&format!("act as Azure app registration {ADA_APP} in tenant {TENANT}"))
            && said.contains(&format!("no app registration with client ID {ADA_APP} in tenant {TENANT}")),
        "{said}"
    );

    // The app trusts another issuer only.
    azure.set_trust(azure_trust(&[(
        ADA_APP,
        vec![credential("https://token.actions.githubusercontent.com", &sub)],
    )]));
    let said = message(check(&app, &owner, ws, &env).await);
    assert!(said.contains(&format!("trusts no tokens from issuer {issuer}")), "{said}");

    // The app trusts this issuer, for another subject: the sentence names the subject to allow.
    azure.set_trust(azure_trust(&[(ADA_APP, vec![credential(&issuer, "org:0:wsp:0")])]));
    let said = message(check(&app, &owner, ws, &env).await);
    assert!(
        said.contains(&format!("You don't have permission to act as Azure app registration {ADA_APP}"))
            && said.contains(&format!("allow subject '{sub}'"))
            && said.contains(&format!("issuer {issuer}"))
            && said.contains(AZURE_AUDIENCE),
        "{said}"
    );
    assert_eq!(azure.refused(), [700016, 700211, 70021]);

    // Trusted: the Check passes, after a real exchange as the checking user's subject.
    azure.set_trust(azure_trust(&[(ADA_APP, vec![credential(&issuer, &sub)])]));
    let outcome = check(&app, &owner, ws, &env).await;
    assert_eq!(outcome["status"], "AVAILABLE", "{outcome}");
    let granted = azure.granted();
    assert_eq!(granted.len(), 1, "{granted:?}");
    assert_eq!((granted[0].client_id.as_str(), granted[0].subject.as_str()), (ADA_APP, sub.as_str()));

    // Half an app registration is refused with the mapping named.
    let (status, body) = app
        .create_compute_env(&owner, ws, "half", "aws-batch", json!({ "region": "us-east-1", "computeQueue": "q",
            "executionRole": EXEC_ROLE, "endpointUrl": sts.endpoint, "cloudIdentity": { "subject": "workspace",
            "mappings": [{ "roleArn": ADA_ROLE, "tenantId": TENANT }] } }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("Mapping 1: an Azure app registration needs both"),
        "{body}"
    );
}

#[tokio::test]
async fn each_user_acts_as_their_own_azure_app_and_the_head_job_alone_fetches_its_azure_token() {
    let (moto, sts, azure) = started().await;
    let authority = azure.authority.clone();
    let app = spawn_app_with(move |config| {
        head_job_jobs(config);
        config.azure_authority_host = authority;
    })
    .await;
    let owner = app.setup_admin().await;
    let (org, ws) = app.org_and_workspace(&owner, "lab").await;
    let bob = app.user(&owner, "bob@example.org").await;
    app.add_participant(&owner, org, ws, "bob@example.org", "launch").await;
    let (ada_id, bob_id) = (user_id(&app, &owner).await, user_id(&app, &bob).await);
    let env = managed_env(
        &app,
        &owner,
        ws,
        &sts.endpoint,
        &[(ada_id, ADA_ROLE, ADA_APP), (bob_id, BOB_ROLE, BOB_APP)],
    )
    .await;
    let issuer = issuer_of(&app);
    let (ada_sub, bob_sub) =
        (format!("org:{org}:wsp:{ws}:user:{ada_id}"), format!("org:{org}:wsp:{ws}:user:{bob_id}"));
    sts.set_trust(aws_trust(&issuer, &["sts.amazonaws.com"], &[(ADA_ROLE, &ada_sub), (BOB_ROLE, &bob_sub)]));
    // Bob's app trusts Ada's subject, not his: his launch is refused before anything starts, in words.
    azure.set_trust(azure_trust(&[
        (ADA_APP, vec![credential(&issuer, &ada_sub)]),
        (BOB_APP, vec![credential(&issuer, &ada_sub)]),
    ]));
    let body = json!({"pipeline": "nf-core/demo", "computeEnvId": env});
    let (status, refused) = launch(&app, &bob, ws, body.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let said = refused["message"].as_str().unwrap();
    assert!(said.contains(&format!("allow subject '{bob_sub}'")) && said.contains(BOB_APP), "{said}");
    let (_, runs) = app.get_json(&owner, &format!("/api/workflow?workspaceId={ws}")).await;
    assert_eq!(runs["totalSize"], 0, "no run was started: {runs}");

    azure.set_trust(azure_trust(&[
        (ADA_APP, vec![credential(&issuer, &ada_sub)]),
        (BOB_APP, vec![credential(&issuer, &bob_sub)]),
    ]));
    let mut tokens = Vec::new();
    for (who, id, sub, client) in [(&owner, ada_id, &ada_sub, ADA_APP), (&bob, bob_id, &bob_sub, BOB_APP)] {
        let (status, launched) = launch(&app, who, ws, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{launched}");
        let wf = launched["workflowId"].as_str().unwrap().to_string();
        wait_for(&app, who, ws, &wf, |run| run["jobInfo"]["operationId"].is_string()).await;

        // The head job gets Azure's workload identity variables for this user's app.
        let environment = head_job_environment(&moto, &wf).await;
        assert_eq!(environment["AZURE_CLIENT_ID"], client);
        assert_eq!(environment["AZURE_TENANT_ID"], TENANT);
        assert_eq!(environment["AZURE_FEDERATED_TOKEN_FILE"], "/tmp/strongroom-head/azure-identity-token");
        assert_eq!(environment["AZURE_AUTHORITY_HOST"], azure.authority);
        let url = format!("/api/trace/{wf}/identity-token?cloud=azure");
        assert_eq!(environment["SR_AZURE_TOKEN_URL"], format!("{issuer}{url}"));

        // Its run token alone fetches the Azure token; the launcher's session does not.
        let run_token = client_with_bearer(&environment["TOWER_ACCESS_TOKEN"]);
        assert_eq!(send(who.post(app.url(&url))).await.status(), StatusCode::FORBIDDEN);
        let answer = send(run_token.post(app.url(&url))).await;
        assert_eq!(answer.status(), StatusCode::OK);
        let token = answer.text().await.unwrap();
        let claims = verify(&app, AZURE_AUDIENCE, &token, false).await.expect("the Azure token verifies");
        assert_eq!(
            (claims["sub"].as_str(), claims["workflow_id"].as_str()),
            (Some(sub.as_str()), Some(wf.as_str()))
        );
        assert_eq!(claims["user_id"], id.to_string());
        // Its own cloud's token is still the AWS one.
        let own = send(run_token.post(app.url(&format!("/api/trace/{wf}/identity-token"))))
            .await
            .text()
            .await
            .unwrap();
        verify(&app, "sts.amazonaws.com", &own, false).await.expect("the AWS token verifies");
        tokens.push((client, sub.clone(), token));
    }

    // What the head job does with it: the client-assertion flow, as its own app only.
    let http = Client::new();
    let exchange = |client: &str, assertion: &str| {
        let form = [
            ("client_id", client.to_string()),
            ("scope", "https://storage.azure.com/.default".to_string()),
            ("grant_type", "client_credentials".to_string()),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string()),
            ("client_assertion", assertion.to_string()),
        ];
        send(http.post(format!("{}/{TENANT}/oauth2/v2.0/token", azure.authority)).form(&form))
    };
    let (ada_app, _, ada_token) = &tokens[0];
    let (bob_app, bob_sub, bob_token) = &tokens[1];
    assert_eq!(exchange(ada_app, ada_token).await.status(), StatusCode::OK);
    assert_eq!(exchange(bob_app, bob_token).await.status(), StatusCode::OK);
    assert_eq!(
        exchange(ada_app, bob_token).await.status(),
        StatusCode::UNAUTHORIZED,
        "Bob's token is not Ada's app's"
    );
    assert!(azure.granted().iter().any(|g| g.client_id == *bob_app && g.subject == *bob_sub));
}
