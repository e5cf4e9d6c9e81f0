//! Harness for end-to-end tests: the real server with a temporary SQLite file on a free loopback
//! port, serving the trunk-built app, driven by headless Chromium through chromedriver.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::{Client, ClientBuilder, Locator};
use provisio_api::auth::Role;
use provisio_server::demo::DemoAdmin;
use provisio_server::{app, AppOptions, AppState};
use provisio_testkit::SeededDatabase;
use serde_json::{json, Value};

/// A running Provisio server over its own temporary database.
pub struct TestServer {
    pub base_url: String,
    /// The demo admins with their one-time passwords.
    pub admins: Vec<DemoAdmin>,
    /// The server's database, for arranging data a test needs.
    pub pool: sqlx::SqlitePool,
    /// Where the server writes subscription mail (.eml files).
    pub outbox: PathBuf,
    _database: SeededDatabase,
}

impl TestServer {
    pub async fn start(demo_users: u64) -> Result<TestServer> {
        TestServer::start_with(demo_users, |state| state).await
    }

    /// A server whose state `configure` adjusts first (limits, say).
    pub async fn start_with(
        demo_users: u64,
        configure: impl FnOnce(AppState) -> AppState,
    ) -> Result<TestServer> {
        let dist = dist_dir();
        if !dist.join("index.html").exists() {
            bail!(
                "the web app is not built at {}: run `trunk build --release` (cargo xtask test does)",
                dist.display()
            );
        }
        let mut database = SeededDatabase::new(demo_users)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let state = database
            .state(&format!("http://{address}"))
            .map_err(|e| anyhow::anyhow!(e))?;
        let router = app(
            configure(state),
            &AppOptions {
                static_dir: Some(dist),
            },
        );
        tokio::spawn(async move {
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            let _ = axum::serve(listener, service).await;
        });
        Ok(TestServer {
            base_url: format!("http://{address}"),
            admins: std::mem::take(&mut database.admins),
            pool: database.pool.clone(),
            outbox: database.outbox.clone(),
            _database: database,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn admin(&self, role: Role) -> &DemoAdmin {
        self.admins
            .iter()
            .find(|a| a.role == role)
            .unwrap_or_else(|| panic!("no demo admin with role {role:?}"))
    }

    /// The row id of the customer named `name`.
    pub async fn customer_id(&self, name: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT id FROM customers WHERE name = ?")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Gives the customer an active SCIM token, as its identity provider would hold one.
    pub async fn scim_token(&self, customer_id: i64, token: &str) -> Result<()> {
        use provisio_server::db::scim_tokens::{self, NewToken};
        scim_tokens::insert(
            &self.pool.clone().into(),
            &NewToken {
                customer_id,
                name: "E2E IdP",
                identity_provider: provisio_api::scim::IdentityProvider::EntraId,
                prefix: &token[..token.len().min(12)],
                token_hash: &provisio_server::auth::hash_token(token),
                created_by: "e2e",
                expires_at: chrono::Utc::now() + chrono::Duration::days(30),
            },
            2,
        )
        .await?
        .context("the customer already has two active tokens")?;
        Ok(())
    }
}

/// The built web app the server serves (`PROVISIO_E2E_DIST`, or the workspace's `dist`).
pub fn dist_dir() -> PathBuf {
    std::env::var_os("PROVISIO_E2E_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../dist")))
}

/// Headless Chromium under its own chromedriver; both end when this is dropped.
pub struct Browser {
    pub client: Client,
    /// Where the browser saves downloads.
    pub downloads: PathBuf,
    driver: Child,
}

impl Browser {
    pub async fn start() -> Result<Browser> {
        let chromedriver =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        let port = free_port()?;
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {chromedriver}"))?;
        let profile = tempfile::tempdir()?;
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads)?;
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1400,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let Value::Object(capabilities) = capabilities else {
            bail!("capabilities are an object");
        };
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::rustls()?
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(_) if started.elapsed() < Duration::from_secs(20) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(err) => {
                    let _ = driver.kill();
                    return Err(err).context("connecting to chromedriver");
                }
            }
        };
        // The profile directory must outlive the browser; it is small and in the temp dir.
        std::mem::forget(profile);
        Ok(Browser {
            client,
            downloads,
            driver,
        })
    }

    /// Signs in through the sign-in page as the demo admin of `role`, then opens `path`.
    pub async fn sign_in(&self, server: &TestServer, role: Role, path: &str) -> Result<()> {
        let admin = server.admin(role);
        self.client.goto(&server.url("/sign-in")).await?;
        self.fill_sign_in(admin.email, &admin.password).await?;
        self.eventually("the signed-in shell", || async {
            Ok(self
                .client
                .find(Locator::Css(".whoami-name"))
                .await
                .ok()
                .map(|_| ()))
        })
        .await?;
        if path != "/" {
            self.client.goto(&server.url(path)).await?;
        }
        Ok(())
    }

    /// Types into the sign-in form and submits it.
    pub async fn fill_sign_in(&self, email: &str, password: &str) -> Result<()> {
        let form = self
            .eventually("the sign-in form", || async {
                Ok(self.client.find(Locator::Css(".sign-in-card")).await.ok())
            })
            .await?;
        form.find(Locator::Css("input[name=email]"))
            .await?
            .send_keys(email)
            .await?;
        form.find(Locator::Css("input[name=password]"))
            .await?
            .send_keys(password)
            .await?;
        form.find(Locator::Css("button[type=submit]"))
            .await?
            .click()
            .await?;
        Ok(())
    }

    /// The text of every rendered body row of the report table, cell by cell (the selection
    /// checkbox's cell left out).
    pub async fn rendered_rows(&self) -> Result<Vec<Vec<String>>> {
        let script = "return Array.from(document.querySelectorAll('tbody tr.row[data-row-id]'))\
            .map(r => Array.from(r.querySelectorAll('td:not(.select-cell)')).map(c => c.textContent));";
        Ok(serde_json::from_value(self.eval(script).await?)?)
    }

    /// The text of the element `css` selects, or "" when there is none, read in one step (an
    /// element found in one call may be re-rendered before a second call reads it).
    pub async fn text_of(&self, css: &str) -> Result<String> {
        let text = self
            .client
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
                vec![Value::String(css.to_owned())],
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    /// Waits until the element `css` selects reads `wanted`; the error says what it read.
    pub async fn wait_for_text(&self, css: &str, wanted: &str) -> Result<()> {
        let found = self
            .eventually(&format!("“{wanted}” in {css}"), || async {
                Ok(self.text_of(css).await?.contains(wanted).then_some(()))
            })
            .await;
        match found {
            Ok(()) => Ok(()),
            Err(error) => Err(error.context(format!("it reads “{}”", self.text_of(css).await?))),
        }
    }

    /// Types `text` into the element `css` selects.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        self.on_fresh_element(css, |element| async move { element.send_keys(text).await })
            .await
    }

    /// Clicks the element `css` selects.
    pub async fn click(&self, css: &str) -> Result<()> {
        self.on_fresh_element(css, |element| async move { element.click().await })
            .await
    }

    /// Finds the element `css` selects and acts on it, finding it again when the page re-rendered
    /// it between the two steps (Leptos replaces rows when a result arrives).
    async fn on_fresh_element<F, Fut>(&self, css: &str, act: F) -> Result<()>
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
    {
        let started = Instant::now();
        loop {
            let element = self.client.find(Locator::Css(css)).await?;
            match act(element).await {
                Err(error)
                    if error.is_stale_element_reference()
                        && started.elapsed() < Duration::from_secs(10) =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                result => return Ok(result?),
            }
        }
    }

    /// The report's header fields, in display order.
    pub async fn header_fields(&self) -> Result<Vec<String>> {
        let script =
            "return Array.from(document.querySelectorAll('thead th[data-field]')).map(th => th.dataset.field);";
        Ok(serde_json::from_value(self.eval(script).await?)?)
    }

    /// Waits for a finished download whose name ends with `suffix`; returns its path.
    pub async fn wait_for_download(&self, suffix: &str) -> Result<PathBuf> {
        self.eventually(&format!("a downloaded *{suffix} file"), || async {
            let found = std::fs::read_dir(&self.downloads)?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .find(|path| {
                    path.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(suffix))
                });
            Ok(found)
        })
        .await
    }

    /// Where the report column of `field` currently stands.
    pub async fn column_index(&self, field: &str) -> Result<usize> {
        let script =
            "return Array.from(document.querySelectorAll('thead th[data-field]')).map(th => th.dataset.field);";
        let headers: Vec<String> = serde_json::from_value(self.eval(script).await?)?;
        headers
            .iter()
            .position(|h| h == field)
            .with_context(|| format!("no '{field}' column in {headers:?}"))
    }

    /// Waits until report rows are rendered and the total reads as a number; returns it.
    pub async fn wait_for_rows(&self) -> Result<u64> {
        self.eventually("rows and a total", || async {
            let rows = self.rendered_rows().await?;
            let text = match self.client.find(Locator::Css(".total")).await {
                Ok(total) => total.text().await?,
                Err(_) => String::new(),
            };
            let count = text
                .strip_suffix(" users")
                .or_else(|| text.strip_suffix(" user"))
                .and_then(|n| n.replace(',', "").parse::<u64>().ok());
            Ok(count.filter(|_| !rows.is_empty()))
        })
        .await
    }

    /// Waits until the report shows `expected` users.
    pub async fn wait_for_total(&self, expected: u64, what: &str) -> Result<()> {
        self.eventually(what, || async {
            let total = self.wait_for_rows().await?;
            Ok((total == expected).then_some(()))
        })
        .await
    }

    /// The report API's total for a query string, asked with the page's own session.
    pub async fn api_total(&self, query: &str) -> Result<u64> {
        let page = self
            .fetch_json(&format!(
                "/api/v1/reports/user-provisioning?limit=1&{query}"
            ))
            .await?;
        page["total"]
            .as_u64()
            .with_context(|| format!("no total in {page}"))
    }

    /// A SCIM request from the page's origin, as an identity provider would send it; answers
    /// the status and the JSON body (null when there is none).
    pub async fn scim(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Result<(u64, Value)> {
        let script = "const [method, path, token, body, done] = arguments;\
            fetch(path, {method, headers: {'Authorization': 'Bearer ' + token,\
                'Content-Type': 'application/scim+json'}, body: body === null ? undefined : JSON.stringify(body)})\
            .then(async r => done([r.status, await r.text().then(t => t ? JSON.parse(t) : null)]),\
                  e => done([0, String(e)]));";
        let answer = self
            .client
            .execute_async(
                script,
                vec![
                    json!(method),
                    json!(path),
                    json!(token),
                    body.unwrap_or(Value::Null),
                ],
            )
            .await?;
        let status = answer[0].as_u64().context("status")?;
        Ok((status, answer[1].clone()))
    }

    /// Drags the element `source` selects with real pointer actions and drops it at `offset`
    /// (x, y) from the centre of the element `target` selects.
    pub async fn drag(&self, source: &str, target: &str, offset: (i64, i64)) -> Result<()> {
        use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
        let source = self.client.find(Locator::Css(source)).await?;
        let target = self.client.find(Locator::Css(target)).await?;
        // The drag travels in small steps, as a hand would: Chromium's drag session turns each
        // step into dragover events on whatever lies beneath.
        let mut actions = MouseActions::new("mouse".to_owned())
            .then(PointerAction::MoveToElement {
                element: source,
                duration: None,
                x: 0,
                y: 0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            });
        for _ in 0..3 {
            actions = actions.then(PointerAction::MoveBy {
                duration: Some(Duration::from_millis(50)),
                x: -5,
                y: 0,
            });
        }
        let (x, y) = offset;
        actions = actions
            .then(PointerAction::MoveToElement {
                element: target.clone(),
                duration: Some(Duration::from_millis(200)),
                x,
                y,
            })
            .then(PointerAction::MoveToElement {
                element: target,
                duration: Some(Duration::from_millis(100)),
                x: x + x.signum() * 5,
                y: y + y.signum() * 2,
            })
            .then(PointerAction::Pause {
                duration: Duration::from_millis(100),
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.client.perform_actions(actions).await?;
        Ok(())
    }

    /// Runs `script` in the page and returns its value.
    pub async fn eval(&self, script: &str) -> Result<Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Fetches JSON from the page's origin, as the app itself would.
    pub async fn fetch_json(&self, path: &str) -> Result<Value> {
        let script = "const done = arguments[arguments.length - 1];\
            fetch(arguments[0]).then(r => r.json()).then(done, e => done({fetch_error: String(e)}));";
        Ok(self
            .client
            .execute_async(script, vec![Value::String(path.to_owned())])
            .await?)
    }

    /// Polls `check` until it yields `Some`, failing with `what` after ten seconds.
    pub async fn eventually<T, F, Fut>(&self, what: &str, mut check: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Option<T>>>,
    {
        let started = Instant::now();
        loop {
            if let Some(value) = check().await? {
                return Ok(value);
            }
            if started.elapsed() > Duration::from_secs(10) {
                bail!("timed out waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn close(mut self) -> Result<()> {
        let result = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        Ok(result?)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

fn free_port() -> Result<u16> {
    let listener = StdListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    Ok(listener.local_addr()?.port())
}
