//! The preview pane (DESIGN §7): tabs Endpoints, Tests, Spec, Versions and Deployment
//! for the selected project's version. A component: plain state, pure key handling and
//! rendering; everything that needs I/O is a [`PreviewRequest`] that the app hands to
//! [`perform`] and whose [`PreviewResult`] comes back through [`Preview::apply`].
//!
//! Keys (when the pane has focus): `[`/`]` switch tabs anywhere, `h`/`l` at a tab's
//! top level. Endpoints: `j`/`k` pick an operation, Enter opens it; in the request:
//! `j`/`k` move between fields, Enter/`i` edit one (Esc ends), `s` send, `c` copy as
//! curl, `t` switch between the sandbox and the deployment, `J`/`K` scroll the response,
//! Esc back. Tests, Spec: `j`/`k`, PageUp/PageDown, `g`/`G` scroll. Versions: space
//! marks up to two, `d` diffs them, `r` then `y` restores the selected one. Deployment:
//! `j`/`k`, PageUp/PageDown, `g`/`G` scroll the instance's log.

mod deployment_tab;
mod endpoints_tab;
mod exchange;
mod json_lines;
mod operation;
mod outgoing_request;
mod preview_services;
mod request_form;
mod sandbox_host;
mod scroll_view;
mod tests_view;
mod versions_tab;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Tabs};
use serde_json::Value;
use uuid::Uuid;

use super::shown_project::ShownProject;
use crate::deploy::deployment_status::DeploymentStatus;
use crate::tui::outcome::Outcome;
use crate::tui::theme::Theme;
use crate::versions::{RecordedVersion, TestRun, VersionDiff, VersionSummary};

pub use deployment_tab::{DeploymentState, DeploymentTab};
pub use endpoints_tab::{EndpointAction, EndpointsTab, ResponseState};
pub use exchange::Exchange;
pub use operation::{Operation, Param, ParamPlace, operations};
pub use outgoing_request::{CurlEndpoint, OutgoingRequest, Target, quote};
pub use preview_services::{PreviewServices, perform};
pub use sandbox_host::{RunningServer, SandboxHost};
pub use scroll_view::{ScrollView, Tone};
pub use versions_tab::{VersionAction, VersionsMode, VersionsTab};

/// The pane's keys with one-line descriptions, for the help overlay.
pub const KEYS: &[(&str, &str)] = &[
    ("[ / ]", "previous / next preview tab"),
    (
        "h / l",
        "previous / next preview tab (at a tab's top level)",
    ),
    ("j / k", "move or scroll"),
    ("g / G", "to the top / bottom"),
    ("Enter", "open the operation / edit the field / diff"),
    ("i", "edit the focused request field"),
    ("Esc", "stop editing / back to the list"),
    ("s", "send the request"),
    ("c", "copy the request as a curl command"),
    ("t", "send to the sandbox or the deployment"),
    ("J / K", "scroll the response"),
    ("space", "mark a version for a diff (two at most)"),
    (
        "d",
        "diff the marked versions (or the selected one with its predecessor)",
    ),
    (
        "r",
        "restore the selected version as a new version (asks first)",
    ),
    ("j / k (Deployment)", "scroll the instance's log lines"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Endpoints,
    Tests,
    Spec,
    Versions,
    Deployment,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Endpoints,
        Tab::Tests,
        Tab::Spec,
        Tab::Versions,
        Tab::Deployment,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Endpoints => "Endpoints",
            Tab::Tests => "Tests",
            Tab::Spec => "Spec",
            Tab::Versions => "Versions",
            Tab::Deployment => "Deployment",
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    fn step(self, by: isize) -> Tab {
        let n = Tab::ALL.len();
        let i = (self.index() + n).saturating_add_signed(by) % n;
        Tab::ALL[i]
    }
}

/// I/O the preview needs; run by [`perform`].
#[derive(Debug, Clone, PartialEq)]
pub enum PreviewRequest {
    /// Load what the tabs show for version `version` of `project` (spec, latest test
    /// run, history). Also stops a sandbox server that belongs to another project.
    Load { project: Uuid, version: i32 },
    /// Send `request` to `target`: the project's sandbox server (started on demand
    /// for this version, kept running) or a deployment.
    Send {
        project: Uuid,
        version: i32,
        target: Target,
        request: OutgoingRequest,
    },
    /// The curl command for `request` against `target` (starting the sandbox server
    /// so the command names its socket and carries its credentials).
    CopyCurl {
        project: Uuid,
        version: i32,
        target: Target,
        request: OutgoingRequest,
    },
    /// The diff between versions `from` and `to` of `project`.
    Diff { project: Uuid, from: i32, to: i32 },
    /// Record a new version equal to `version` (as `apiforge restore` does).
    Restore { project: Uuid, version: i32 },
    /// The project's live deployment with the daemon's view of it (instance, logs,
    /// traffic), as `apiforge deployments` shows it.
    LoadDeployment { project: Uuid },
    /// Stop the sandbox server: the preview moved to a project with nothing to serve,
    /// or to none.
    StopServer,
}

/// What the version's tabs show.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub project: Uuid,
    pub version: i32,
    /// The version's OpenAPI document.
    pub spec: Value,
    /// The latest test run of the version.
    pub latest_run: Option<TestRun>,
    pub versions: Vec<VersionSummary>,
}

/// What a curl copy produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurlCopy {
    pub command: String,
    /// The OSC 52 escape that puts `command` on the terminal's clipboard; the app
    /// writes it to the terminal (it works over SSH too).
    pub osc52: String,
}

/// The outcome of a [`PreviewRequest`]; errors are sentences a person can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum PreviewResult {
    Loaded(Box<Loaded>),
    LoadFailed {
        project: Uuid,
        version: i32,
        message: String,
    },
    Sent {
        project: Uuid,
        response: Result<Exchange, String>,
    },
    Copied {
        project: Uuid,
        copy: Result<CurlCopy, String>,
    },
    Diffed {
        project: Uuid,
        diff: Result<VersionDiff, String>,
    },
    Restored {
        project: Uuid,
        from: i32,
        restored: Result<RecordedVersion, String>,
    },
    /// `deployment` is `None` when the project is not deployed.
    DeploymentLoaded {
        project: Uuid,
        deployment: Result<Option<Box<DeploymentStatus>>, String>,
    },
    Stopped,
}

impl PreviewResult {
    /// The error to show as a notice, if the request failed.
    pub fn error(&self) -> Option<&str> {
        match self {
            PreviewResult::Loaded(_) | PreviewResult::Stopped => None,
            PreviewResult::LoadFailed { message, .. } => Some(message),
            PreviewResult::Sent { response, .. } => response.as_ref().err().map(String::as_str),
            PreviewResult::Copied { copy, .. } => copy.as_ref().err().map(String::as_str),
            PreviewResult::Diffed { diff, .. } => diff.as_ref().err().map(String::as_str),
            PreviewResult::Restored { restored, .. } => restored.as_ref().err().map(String::as_str),
            PreviewResult::DeploymentLoaded { deployment, .. } => {
                deployment.as_ref().err().map(String::as_str)
            }
        }
    }
}

/// What is shown: which project and version, and whether its data arrived.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Nothing,
    /// The project has no version yet.
    NoVersion {
        project: Uuid,
        slug: String,
    },
    Loading {
        project: Uuid,
        slug: String,
        version: i32,
    },
    Ready {
        project: Uuid,
        slug: String,
        version: i32,
    },
    Failed {
        project: Uuid,
        slug: String,
        version: i32,
        message: String,
    },
}

pub struct Preview {
    tab: Tab,
    shown: Shown,
    endpoints: EndpointsTab,
    tests: ScrollView,
    spec: ScrollView,
    versions: VersionsTab,
    deployment_tab: DeploymentTab,
    deployment: Option<String>,
    target: Target,
}

impl Default for Preview {
    fn default() -> Self {
        Self::new()
    }
}

impl Preview {
    pub fn new() -> Self {
        Self {
            tab: Tab::Endpoints,
            shown: Shown::Nothing,
            endpoints: EndpointsTab::default(),
            tests: ScrollView::default(),
            spec: ScrollView::default(),
            versions: VersionsTab::default(),
            deployment_tab: DeploymentTab::default(),
            deployment: None,
            target: Target::Sandbox,
        }
    }

    pub fn tab(&self) -> Tab {
        self.tab
    }

    pub fn endpoints(&self) -> &EndpointsTab {
        &self.endpoints
    }

    pub fn versions(&self) -> &VersionsTab {
        &self.versions
    }

    pub fn deployment_tab(&self) -> &DeploymentTab {
        &self.deployment_tab
    }

    /// The project on show (with or without a version).
    pub fn project(&self) -> Option<Uuid> {
        self.project_id()
    }

    /// The project whose deployment the visible Deployment tab shows; the app keeps
    /// reloading it while this is `Some`.
    pub fn deployment_visible(&self) -> Option<Uuid> {
        if self.tab == Tab::Deployment {
            self.project_id()
        } else {
            None
        }
    }

    pub fn tests_view(&self) -> &ScrollView {
        &self.tests
    }

    pub fn spec_view(&self) -> &ScrollView {
        &self.spec
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// `(project, version)` on show.
    pub fn showing(&self) -> Option<(Uuid, i32)> {
        match &self.shown {
            Shown::Loading {
                project, version, ..
            }
            | Shown::Ready {
                project, version, ..
            }
            | Shown::Failed {
                project, version, ..
            } => Some((*project, *version)),
            Shown::Nothing | Shown::NoVersion { .. } => None,
        }
    }

    fn project_id(&self) -> Option<Uuid> {
        match &self.shown {
            Shown::Nothing => None,
            Shown::NoVersion { project, .. }
            | Shown::Loading { project, .. }
            | Shown::Ready { project, .. }
            | Shown::Failed { project, .. } => Some(*project),
        }
    }

    /// Shows `project`'s latest version. Returns the load to run when that is not
    /// what is shown already (a new project, or a new version after a save), or a
    /// server stop when the project changed to one without a version.
    pub fn show(&mut self, project: &impl ShownProject) -> Option<PreviewRequest> {
        let Some(version) = project.latest_version() else {
            if self.project_id() == Some(project.id()) && self.showing().is_none() {
                return None;
            }
            let moved = self.project_id().is_some_and(|p| p != project.id());
            self.reset();
            self.shown = Shown::NoVersion {
                project: project.id(),
                slug: project.slug().to_owned(),
            };
            return moved.then_some(PreviewRequest::StopServer);
        };
        if self.showing() == Some((project.id(), version))
            && !matches!(self.shown, Shown::Failed { .. })
        {
            return None;
        }
        if self.project_id() != Some(project.id()) {
            self.reset();
        }
        self.shown = Shown::Loading {
            project: project.id(),
            slug: project.slug().to_owned(),
            version,
        };
        Some(PreviewRequest::Load {
            project: project.id(),
            version,
        })
    }

    /// No project selected; returns the stop for a server the last one may have.
    pub fn clear(&mut self) -> Option<PreviewRequest> {
        let had = self.project_id().is_some();
        self.reset();
        self.shown = Shown::Nothing;
        had.then_some(PreviewRequest::StopServer)
    }

    fn reset(&mut self) {
        self.endpoints = EndpointsTab::default();
        self.tests = ScrollView::default();
        self.spec = ScrollView::default();
        self.versions = VersionsTab::default();
        self.deployment_tab = DeploymentTab::default();
        self.deployment = None;
        self.target = Target::Sandbox;
    }

    /// The deployment's base URL, when the project is deployed (`t` then sends there).
    pub fn set_deployment(&mut self, url: Option<String>) {
        if url.is_none() {
            self.target = Target::Sandbox;
        }
        self.deployment = url;
    }

    /// True while a text field takes every key.
    pub fn captures_input(&self) -> bool {
        self.tab == Tab::Endpoints && self.endpoints.captures_input()
    }

    /// Pasted text into the request field being edited; false when no field is.
    pub fn paste(&mut self, text: &str) -> bool {
        self.captures_input() && self.endpoints.paste(text)
    }

    fn at_top(&self) -> bool {
        match self.tab {
            Tab::Endpoints => self.endpoints.at_top(),
            Tab::Versions => self.versions.at_top(),
            Tab::Tests | Tab::Spec | Tab::Deployment => true,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome<PreviewRequest> {
        if self.captures_input() {
            self.endpoints.handle_key(key);
            return Outcome::Consumed;
        }
        // A pending restore confirmation takes the next key, whatever it is.
        let confirming = self.tab == Tab::Versions
            && matches!(self.versions.mode(), VersionsMode::ConfirmRestore(_));
        if !confirming {
            match key.code {
                KeyCode::Char(']') => return self.switch(1),
                KeyCode::Char('[') => return self.switch(-1),
                KeyCode::Char('l') if self.at_top() => return self.switch(1),
                KeyCode::Char('h') if self.at_top() => return self.switch(-1),
                _ => {}
            }
        }
        if self.tab == Tab::Deployment {
            return scrolled(self.deployment_tab.handle_key(key));
        }
        let Some((project, version)) = self.showing() else {
            return Outcome::Ignored;
        };
        match self.tab {
            Tab::Endpoints => match self.endpoints.handle_key(key) {
                EndpointAction::Consumed => Outcome::Consumed,
                EndpointAction::Ignored => Outcome::Ignored,
                EndpointAction::Send(request) => Outcome::Request(PreviewRequest::Send {
                    project,
                    version,
                    target: self.target.clone(),
                    request,
                }),
                EndpointAction::CopyCurl(request) => Outcome::Request(PreviewRequest::CopyCurl {
                    project,
                    version,
                    target: self.target.clone(),
                    request,
                }),
                EndpointAction::ToggleTarget => {
                    match (&self.target, &self.deployment) {
                        (Target::Sandbox, Some(url)) => self.target = Target::Url(url.clone()),
                        (Target::Sandbox, None) => self
                            .endpoints
                            .set_note(Tone::Warn, "not deployed: requests go to the sandbox"),
                        (Target::Url(_), _) => self.target = Target::Sandbox,
                    }
                    Outcome::Consumed
                }
            },
            Tab::Tests => scrolled(self.tests.handle_key(key)),
            Tab::Spec => scrolled(self.spec.handle_key(key)),
            Tab::Deployment => Outcome::Ignored,
            Tab::Versions => match self.versions.handle_key(key) {
                VersionAction::Consumed => Outcome::Consumed,
                VersionAction::Ignored => Outcome::Ignored,
                VersionAction::Diff { from, to } => {
                    Outcome::Request(PreviewRequest::Diff { project, from, to })
                }
                VersionAction::Restore { version } => {
                    Outcome::Request(PreviewRequest::Restore { project, version })
                }
            },
        }
    }

    /// Moves to another tab; arriving at the Deployment tab loads it.
    fn switch(&mut self, by: isize) -> Outcome<PreviewRequest> {
        self.tab = self.tab.step(by);
        match self.deployment_visible() {
            Some(project) => Outcome::Request(PreviewRequest::LoadDeployment { project }),
            None => Outcome::Consumed,
        }
    }

    /// Takes a result in; results for a project or version no longer shown are dropped.
    pub fn apply(&mut self, result: PreviewResult) {
        let current = self.project_id();
        match result {
            PreviewResult::Loaded(loaded) => {
                if self.showing() != Some((loaded.project, loaded.version)) {
                    return;
                }
                let (Shown::Loading {
                    project,
                    slug,
                    version,
                }
                | Shown::Ready {
                    project,
                    slug,
                    version,
                }
                | Shown::Failed {
                    project,
                    slug,
                    version,
                    ..
                }) = self.shown.clone()
                else {
                    return;
                };
                self.endpoints = EndpointsTab::new(operations(&loaded.spec));
                self.tests = tests_view::tests_view(loaded.latest_run.as_ref());
                self.spec = ScrollView::new(json_lines::json_lines(&loaded.spec));
                self.versions = VersionsTab::new(loaded.versions);
                self.shown = Shown::Ready {
                    project,
                    slug,
                    version,
                };
            }
            PreviewResult::LoadFailed {
                project: p,
                version: v,
                message,
            } => {
                if self.showing() != Some((p, v)) {
                    return;
                }
                if let Shown::Loading {
                    project,
                    slug,
                    version,
                } = self.shown.clone()
                {
                    self.shown = Shown::Failed {
                        project,
                        slug,
                        version,
                        message,
                    };
                }
            }
            PreviewResult::Sent { project, response } if current == Some(project) => {
                self.endpoints.received(response);
            }
            PreviewResult::Copied { project, copy } if current == Some(project) => match copy {
                Ok(c) => self
                    .endpoints
                    .set_note(Tone::Ok, format!("copied: {}", c.command)),
                Err(e) => self.endpoints.set_note(Tone::Error, e),
            },
            PreviewResult::Diffed { project, diff } if current == Some(project) => {
                self.versions.diff_loaded(diff);
            }
            PreviewResult::Restored {
                project,
                from,
                restored,
            } if current == Some(project) => match restored {
                // The app refreshes the project, whose new latest version then comes
                // back through `show`.
                Ok(r) => self
                    .versions
                    .set_note(Tone::Ok, format!("v{from} restored as v{}", r.number)),
                Err(e) => self.versions.set_note(Tone::Error, e),
            },
            PreviewResult::DeploymentLoaded {
                project,
                deployment,
            } if current == Some(project) => {
                if let Ok(d) = &deployment {
                    self.set_deployment(d.as_ref().map(|d| d.url.clone()));
                }
                self.deployment_tab
                    .loaded(deployment.map(|d| d.map(|d| *d)));
            }
            PreviewResult::Stopped
            | PreviewResult::DeploymentLoaded { .. }
            | PreviewResult::Sent { .. }
            | PreviewResult::Copied { .. }
            | PreviewResult::Diffed { .. }
            | PreviewResult::Restored { .. } => {}
        }
    }

    pub fn render(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, focused: bool) {
        let title = match &self.shown {
            Shown::Nothing => " Preview ".to_owned(),
            Shown::NoVersion { slug, .. } => format!(" Preview · {slug} "),
            Shown::Loading { slug, version, .. }
            | Shown::Ready { slug, version, .. }
            | Shown::Failed { slug, version, .. } => format!(" Preview · {slug} v{version} "),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(if focused {
                theme.border_focused
            } else {
                theme.border
            })
            .title(Span::styled(title, theme.title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [tabs_area, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
        let tabs = Tabs::new(Tab::ALL.iter().map(|t| Line::from(t.title())))
            .select(self.tab.index())
            .style(theme.dim)
            .highlight_style(theme.selected)
            .divider(" ")
            .padding("", "");
        frame.render_widget(tabs, tabs_area);
        // The deployment does not depend on the version's data having arrived.
        if self.deployment_visible().is_some() {
            self.deployment_tab.render(frame, body, theme);
            return;
        }
        let message = match &self.shown {
            Shown::Nothing => Some(Span::styled("No project selected.", theme.dim)),
            Shown::NoVersion { .. } => {
                Some(Span::styled("This project has no version yet.", theme.dim))
            }
            Shown::Loading { .. } => Some(Span::styled("loading …", theme.running)),
            Shown::Failed { message, .. } => Some(Span::styled(message.clone(), theme.error)),
            Shown::Ready { .. } => None,
        };
        if let Some(message) = message {
            frame.render_widget(
                Paragraph::new(message).wrap(ratatui::widgets::Wrap { trim: false }),
                body,
            );
            return;
        }
        match self.tab {
            Tab::Endpoints => {
                let target = match &self.target {
                    Target::Sandbox => "sandbox".to_owned(),
                    Target::Url(url) => url.clone(),
                };
                self.endpoints.render(frame, body, theme, focused, &target);
            }
            Tab::Tests => self.tests.render(frame, body, theme),
            Tab::Spec => self.spec.render(frame, body, theme),
            Tab::Versions => self.versions.render(frame, body, theme, focused),
            Tab::Deployment => self.deployment_tab.render(frame, body, theme),
        }
    }
}

fn scrolled(moved: bool) -> Outcome<PreviewRequest> {
    if moved {
        Outcome::Consumed
    } else {
        Outcome::Ignored
    }
}

/// The OSC 52 escape that sets the terminal's clipboard to `text`.
pub fn osc52(text: &str) -> String {
    use base64::Engine as _;
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    )
}

#[cfg(test)]
mod tests;
