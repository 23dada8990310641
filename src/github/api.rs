//! The endpoints `sync` uses (§1 of `shared/docs/github-and-dotenv.md`), typed: listings,
//! the public key, repository ids, and the secret and variable writes.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{ApiError, Client};
use super::scope;
use super::seal::SealKey;
use crate::mapping::github::Scope;

/// A listed secret (names and dates only: GitHub never returns a secret's value).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RemoteSecret {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) updated_at: String,
    #[serde(default)]
    pub(crate) visibility: Option<String>,
}

/// A listed variable, value included.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RemoteVariable {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) value: String,
    #[serde(default)]
    pub(crate) visibility: Option<String>,
}

#[derive(Deserialize)]
struct PublicKey {
    key_id: String,
    key: String,
}

#[derive(Deserialize)]
struct Repository {
    id: u64,
}

/// What a successful write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Created,
    Updated,
    Deleted,
    /// A delete of a name that was already gone.
    Gone,
}

/// A write's result with GitHub's clock (its `Date` header) at the answer.
pub(crate) type WriteResult = Result<(Written, Option<i64>), ApiError>;

impl Client<'_> {
    /// Every secret of the scope, by (upper-case) name.
    pub(crate) async fn list_secrets(
        &mut self,
        scope: &Scope,
    ) -> Result<BTreeMap<String, RemoteSecret>, ApiError> {
        let list: Vec<RemoteSecret> = self
            .list(&scope::collection(scope, "secrets"), "secrets", 100)
            .await?;
        Ok(list
            .into_iter()
            .map(|s| (s.name.to_ascii_uppercase(), s))
            .collect())
    }

    /// Every variable of the scope, by (upper-case) name. GitHub pages variables by 30 at most.
    pub(crate) async fn list_variables(
        &mut self,
        scope: &Scope,
    ) -> Result<BTreeMap<String, RemoteVariable>, ApiError> {
        let list: Vec<RemoteVariable> = self
            .list(&scope::collection(scope, "variables"), "variables", 30)
            .await?;
        Ok(list
            .into_iter()
            .map(|v| (v.name.to_ascii_uppercase(), v))
            .collect())
    }

    /// The scope's public key for sealing secrets.
    pub(crate) async fn public_key(&mut self, scope: &Scope) -> Result<SealKey, ApiError> {
        let path = format!("{}/public-key", scope::collection(scope, "secrets"));
        let key: PublicKey = self.get_json(&path).await?;
        SealKey::from_github(&key.key_id, &key.key).map_err(|message| ApiError::Unexpected {
            request: format!("GET {path}"),
            message,
        })
    }

    /// The numeric id of `owner/name` (org secrets with `visibility: selected` need ids).
    pub(crate) async fn repository_id(&mut self, owner: &str, name: &str) -> Result<u64, ApiError> {
        let path = format!("/repos/{}/{}", scope::seg(owner), scope::seg(name));
        let repo: Repository = self.get_json(&path).await?;
        Ok(repo.id)
    }

    /// Create or update a secret (PUT: 201 created, 204 updated).
    pub(crate) async fn put_secret(
        &mut self,
        scope: &Scope,
        name: &str,
        key: &SealKey,
        plaintext: &str,
        repo_ids: &[u64],
    ) -> WriteResult {
        let path = scope::item(scope, "secrets", name);
        let sealed = key
            .seal(plaintext)
            .map_err(|message| ApiError::Unexpected {
                request: format!("PUT {path}"),
                message,
            })?;
        let mut body = json!({"encrypted_value": sealed, "key_id": key.key_id});
        add_visibility(&mut body, scope, repo_ids);
        let answer = self.write(Method::PUT, &path, Some(&body)).await?;
        match answer.status {
            201 => Ok((Written::Created, answer.date)),
            200 | 204 => Ok((Written::Updated, answer.date)),
            _ => Err(self.status_error(&format!("PUT {path}"), &answer)),
        }
    }

    /// Create a variable with POST; when it exists already (409), update it with PATCH.
    pub(crate) async fn set_variable(
        &mut self,
        scope: &Scope,
        name: &str,
        value: &str,
        exists: bool,
        repo_ids: &[u64],
    ) -> WriteResult {
        if !exists {
            let path = scope::collection(scope, "variables");
            let mut body = json!({"name": name, "value": value});
            add_visibility(&mut body, scope, repo_ids);
            let answer = self.write(Method::POST, &path, Some(&body)).await?;
            match answer.status {
                200 | 201 => return Ok((Written::Created, answer.date)),
                409 => {} // created meanwhile: update it
                _ => return Err(self.status_error(&format!("POST {path} ({name})"), &answer)),
            }
        }
        let path = scope::item(scope, "variables", name);
        let mut body = json!({"name": name, "value": value});
        add_visibility(&mut body, scope, repo_ids);
        let answer = self.write(Method::PATCH, &path, Some(&body)).await?;
        match answer.status {
            200 | 204 => Ok((Written::Updated, answer.date)),
            _ => Err(self.status_error(&format!("PATCH {path}"), &answer)),
        }
    }

    /// Delete a secret or variable (`what`: `secrets`/`variables`); a 404 means already gone.
    pub(crate) async fn delete(&mut self, scope: &Scope, what: &str, name: &str) -> WriteResult {
        let path = scope::item(scope, what, name);
        let answer = self.write(Method::DELETE, &path, None).await?;
        match answer.status {
            200 | 204 => Ok((Written::Deleted, answer.date)),
            404 => Ok((Written::Gone, answer.date)),
            _ => Err(self.status_error(&format!("DELETE {path}"), &answer)),
        }
    }
}

/// Org writes carry the visibility (and the repository ids for `selected`).
fn add_visibility(body: &mut Value, scope: &Scope, repo_ids: &[u64]) {
    if let Some(v) = scope::visibility(scope) {
        body["visibility"] = json!(v.as_str());
        if v == crate::mapping::github::Visibility::Selected {
            body["selected_repository_ids"] = json!(repo_ids);
        }
    }
}
