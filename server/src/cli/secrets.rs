//! `strongroom secrets …`: a client of a running server's `/api/pipeline-secrets` (no database,
//! no key). Configured like Seqera's `tw`: `STRONGROOM_URL`, `STRONGROOM_ACCESS_TOKEN` and
//! `STRONGROOM_WORKSPACE_ID`, or `TOWER_API_ENDPOINT`, `TOWER_ACCESS_TOKEN` and
//! `TOWER_WORKSPACE_ID` (Strongroom's variables win; `--workspace` wins over both).
//!
//! Values are read from a file or standard input only, held in a `SecretString`, and sent in the
//! request body; the token is sent as a header marked sensitive. Neither is ever printed.

use super::input::read_secret;
use super::{ListSecrets, NamedSecret, SecretTarget, SecretsCommand, WriteSecret};
use anyhow::{anyhow, bail, Context};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// Where and as whom to call, from the environment and the `--workspace` flag.
pub struct ClientSettings {
    /// The API base, always ending in `/api/`.
    pub api: Url,
    pub token: SecretString,
    pub workspace: Option<i64>,
}

impl ClientSettings {
    /// `lookup` reads an environment variable (a parameter so tests need not touch the process's).
    pub fn from_env(
        lookup: impl Fn(&str) -> Option<String>,
        target: SecretTarget,
    ) -> anyhow::Result<ClientSettings> {
        let first = |names: [&'static str; 2]| -> Option<(&'static str, String)> {
            names
                .into_iter()
                .find_map(|name| lookup(name).filter(|v| !v.trim().is_empty()).map(|v| (name, v)))
        };
        let (url_var, base) = first(["STRONGROOM_URL", "TOWER_API_ENDPOINT"])
            .ok_or_else(|| anyhow!("set STRONGROOM_URL (or TOWER_API_ENDPOINT) to the server's address"))?;
        let api = api_base(&base).with_context(|| format!("{url_var} is not a usable http(s) URL"))?;
        let (_, token) = first(["STRONGROOM_ACCESS_TOKEN", "TOWER_ACCESS_TOKEN"]).ok_or_else(|| {
            anyhow!("set STRONGROOM_ACCESS_TOKEN (or TOWER_ACCESS_TOKEN) to an access token from /api/tokens")
        })?;
        let workspace = match target.workspace {
            Some(id) => Some(id),
            None => match first(["STRONGROOM_WORKSPACE_ID", "TOWER_WORKSPACE_ID"]) {
                Some((name, value)) => Some(
                    value
                        .trim()
                        .parse::<i64>()
                        .map_err(|_| anyhow!("{name} must be a workspace id (a number)"))?,
                ),
                None => None,
            },
        };
        Ok(ClientSettings { api, token: SecretString::from(token.trim().to_string()), workspace })
    }
}

/// The API base from a server address, with or without a trailing `/api` (Seqera's
/// `TOWER_API_ENDPOINT` ends with it, a Strongroom address usually does not).
pub fn api_base(raw: &str) -> anyhow::Result<Url> {
    let trimmed = raw.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/api").unwrap_or(trimmed);
    let url = Url::parse(&format!("{trimmed}/api/"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("the URL must start with http:// or https:// and name a host");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("the URL must not have a query or fragment");
    }
    Ok(url)
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretDto {
    id: i64,
    name: String,
    date_created: Option<String>,
    last_updated: Option<String>,
    last_used: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SecretList {
    pipeline_secrets: Vec<SecretDto>,
}

/// Request bodies borrow the value: no extra copy beyond the serialized body.
#[derive(Serialize)]
struct CreateBody<'a> {
    name: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
struct UpdateBody<'a> {
    value: &'a str,
}

struct Client {
    http: reqwest::Client,
    settings: ClientSettings,
}

impl Client {
    fn new(settings: ClientSettings) -> anyhow::Result<Client> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", settings.token.expose_secret()))
            .map_err(|_| anyhow!("the access token holds characters that cannot be sent in a header"))?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("strongroom-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client { http, settings })
    }

    /// `pipeline-secrets[/{id}]` with `workspaceId` when a workspace is targeted.
    fn url(&self, id: Option<i64>) -> Url {
        let path = match id {
            Some(id) => format!("pipeline-secrets/{id}"),
            None => "pipeline-secrets".to_string(),
        };
        let mut url = self.settings.api.join(&path).expect("a relative path joins onto an http URL");
        if let Some(workspace) = self.settings.workspace {
            url.query_pairs_mut().append_pair("workspaceId", &workspace.to_string());
        }
        url
    }

    async fn send(
        &self,
        method: Method,
        id: Option<i64>,
        body: Option<&impl Serialize>,
    ) -> anyhow::Result<reqwest::Response> {
        let mut request = self.http.request(method, self.url(id));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|error| {
            // reqwest's message names the full URL; the chain says why (refused, DNS, TLS).
            anyhow!("could not reach the Strongroom server at {}: {}", self.settings.api, error_chain(&error))
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let message = response
            .json::<Value>()
            .await
            .ok()
            .and_then(|body| body.get("message").and_then(Value::as_str).map(str::to_string));
        Err(match message {
            Some(message) => anyhow!("{message} (HTTP {})", status.as_u16()),
            None if status == StatusCode::NOT_FOUND => anyhow!(
                "the server at {} answered 404 without a message: is it a Strongroom server?",
                self.settings.api
            ),
            None => anyhow!("the server answered HTTP {status}"),
        })
    }

    async fn list(&self) -> anyhow::Result<Value> {
        self.send(Method::GET, None, None::<&()>)
            .await?
            .json::<Value>()
            .await
            .context("the server's answer was not the expected JSON")
    }

    /// The id of the secret with exactly this name, in the targeted scope.
    async fn find_id(&self, name: &str) -> anyhow::Result<i64> {
        let list: SecretList = serde_json::from_value(self.list().await?)
            .context("the server's list of secrets was not in the expected shape")?;
        list.pipeline_secrets.iter().find(|s| s.name == name).map(|s| s.id).ok_or_else(|| {
            anyhow!(
                "there is no secret named '{name}' in {}",
                match self.settings.workspace {
                    Some(id) => format!("workspace {id}"),
                    None => "your own secrets".to_string(),
                }
            )
        })
    }
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        parts.push(cause.to_string());
        source = cause.source();
    }
    parts.join(": ")
}

pub async fn run_secrets(command: SecretsCommand) -> anyhow::Result<()> {
    let target = match &command {
        SecretsCommand::List(ListSecrets { target, .. })
        | SecretsCommand::Add(WriteSecret { target, .. })
        | SecretsCommand::Update(WriteSecret { target, .. })
        | SecretsCommand::Delete(NamedSecret { target, .. }) => *target,
    };
    let settings = ClientSettings::from_env(|name| std::env::var(name).ok(), target)?;
    let client = Client::new(settings)?;
    match command {
        SecretsCommand::List(args) => {
            let body = client.list().await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&body)?);
            } else {
                let list: SecretList = serde_json::from_value(body)
                    .context("the server's list of secrets was not in the expected shape")?;
                print!("{}", table(&list.pipeline_secrets));
            }
        }
        SecretsCommand::Add(args) => {
            let value = read_secret(&args.value_file)?;
            let body = CreateBody { name: &args.name, value: value.expose_secret() };
            let created: Value = client.send(Method::POST, None, Some(&body)).await?.json().await?;
            let id = created.get("secretId").and_then(Value::as_i64).unwrap_or_default();
            println!("Created secret '{}' (id {id}).", args.name);
        }
        SecretsCommand::Update(args) => {
            let value = read_secret(&args.value_file)?;
            let id = client.find_id(&args.name).await?;
            let body = UpdateBody { value: value.expose_secret() };
            client.send(Method::PUT, Some(id), Some(&body)).await?;
            println!("Updated secret '{}' (id {id}).", args.name);
        }
        SecretsCommand::Delete(args) => {
            let id = client.find_id(&args.name).await?;
            client.send(Method::DELETE, Some(id), None::<&()>).await?;
            println!("Deleted secret '{}' (id {id}).", args.name);
        }
    }
    Ok(())
}

/// Columns padded to their widest cell.
fn table(secrets: &[SecretDto]) -> String {
    let header = ["NAME", "ID", "CREATED", "UPDATED", "LAST USED"].map(String::from);
    let never = || "never".to_string();
    let rows: Vec<[String; 5]> = secrets
        .iter()
        .map(|s| {
            [
                s.name.clone(),
                s.id.to_string(),
                s.date_created.clone().unwrap_or_default(),
                s.last_updated.clone().unwrap_or_default(),
                s.last_used.clone().unwrap_or_else(never),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)], workspace: Option<i64>) -> anyhow::Result<ClientSettings> {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ClientSettings::from_env(|name| vars.get(name).cloned(), SecretTarget { workspace })
    }

    #[test]
    fn the_api_base_is_found_with_or_without_a_trailing_api() {
        for raw in [
            "http://127.0.0.1:3000",
            "http://127.0.0.1:3000/",
            "http://127.0.0.1:3000/api",
            "http://127.0.0.1:3000/api/",
            " http://127.0.0.1:3000/api\n",
        ] {
            assert_eq!(api_base(raw).unwrap().as_str(), "http://127.0.0.1:3000/api/", "{raw:?}");
        }
        assert_eq!(
            api_base("https://example.org/strongroom/api").unwrap().as_str(),
            "https://example.org/strongroom/api/"
        );
        assert_eq!(
            api_base("https://example.org/apiary").unwrap().as_str(),
            "https://example.org/apiary/api/"
        );
        for bad in ["127.0.0.1:3000", "ftp://example.org", "not a url", "http://h/?x=1"] {
            assert!(api_base(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strongroom_variables_win_over_tower_ones_and_the_flag_over_both() {
        let all = [
            ("STRONGROOM_URL", "http://strongroom.local"),
            ("STRONGROOM_ACCESS_TOKEN", "sr_mine"),
            ("STRONGROOM_WORKSPACE_ID", "7"),
            ("TOWER_API_ENDPOINT", "https://tower.local/api"),
            ("TOWER_ACCESS_TOKEN", "tower-token"),
            ("TOWER_WORKSPACE_ID", "9"),
        ];
        let s = settings(&all, None).unwrap();
        assert_eq!(s.api.as_str(), "http://strongroom.local/api/");
        assert_eq!(s.token.expose_secret(), "sr_mine");
        assert_eq!(s.workspace, Some(7));
        assert_eq!(settings(&all, Some(3)).unwrap().workspace, Some(3));

        let tower = &all[3..];
        let s = settings(tower, None).unwrap();
        assert_eq!(s.api.as_str(), "https://tower.local/api/");
        assert_eq!(s.token.expose_secret(), "tower-token");
        assert_eq!(s.workspace, Some(9));

        let s = settings(&all[..2], None).unwrap();
        assert_eq!(s.workspace, None, "no workspace anywhere: the caller's own secrets");
    }

    #[test]
    fn missing_or_bad_settings_are_explained_without_echoing_the_token() {
        let err = settings(&[("STRONGROOM_ACCESS_TOKEN", "sr_x")], None).err().unwrap();
        assert!(err.to_string().contains("STRONGROOM_URL"), "{err}");
        let err = settings(&[("STRONGROOM_URL", "http://h")], None).err().unwrap();
        assert!(err.to_string().contains("STRONGROOM_ACCESS_TOKEN"), "{err}");
        let err =
            settings(&[("TOWER_API_ENDPOINT", "h:1"), ("TOWER_ACCESS_TOKEN", "t")], None).err().unwrap();
        assert!(format!("{err:#}").contains("TOWER_API_ENDPOINT is not a usable"), "{err:#}");
        let err = settings(
            &[("STRONGROOM_URL", "http://h"), ("STRONGROOM_ACCESS_TOKEN", "t"), ("TOWER_WORKSPACE_ID", "x")],
            None,
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("TOWER_WORKSPACE_ID must be a workspace id"), "{err}");
        let bad =
            settings(&[("STRONGROOM_URL", "http://h"), ("STRONGROOM_ACCESS_TOKEN", "sr_bad\nvalue")], None)
                .unwrap();
        let err = Client::new(bad).err().unwrap();
        assert!(!err.to_string().contains("sr_bad"), "{err}");
    }

    #[test]
    fn the_table_lines_up_and_says_never_for_unused_secrets() {
        let secrets = vec![
            SecretDto {
                id: 1,
                name: "A_LONG_SECRET_NAME".into(),
                date_created: Some("2024-01-01T00:00:00Z".into()),
                last_updated: Some("2024-01-02T00:00:00Z".into()),
                last_used: None,
            },
            SecretDto {
                id: 22,
                name: "AB".into(),
                date_created: Some("2024-01-01T00:00:00Z".into()),
                last_updated: Some("2024-01-01T00:00:00Z".into()),
                last_used: Some("2024-02-01T00:00:00Z".into()),
            },
        ];
        let printed = table(&secrets);
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("NAME                ID  CREATED"), "{printed}");
        assert!(lines[1].starts_with("A_LONG_SECRET_NAME  1   2024-01-01"), "{printed}");
        assert!(lines[1].ends_with("never"), "{printed}");
        assert!(lines[2].starts_with("AB                  22  "), "{printed}");
    }
}
