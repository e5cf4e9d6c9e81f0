//! Who is signed in, shared with every page through context.

use leptos::prelude::*;
use provisio_api::auth::{Me, Role};

#[derive(Debug, Clone, PartialEq)]
pub enum SessionState {
    /// Asking the server whether the browser holds a session.
    Checking,
    SignedIn(Me),
    SignedOut,
}

/// The session signal; `provide` it once at the root, `expect` it anywhere below.
#[derive(Debug, Clone, Copy)]
pub struct Session(pub RwSignal<SessionState>);

impl Session {
    pub fn provide() -> Session {
        let session = Session(RwSignal::new(SessionState::Checking));
        provide_context(session);
        session
    }

    pub fn expect() -> Session {
        expect_context::<Session>()
    }

    pub fn me(self) -> Option<Me> {
        match self.0.get() {
            SessionState::SignedIn(me) => Some(me),
            _ => None,
        }
    }

    pub fn role(self) -> Option<Role> {
        self.me().map(|me| me.role)
    }

    /// The session is over (signed out, or the server answered 401): the shell sends the
    /// admin to sign in. Once signed out, further 401s change nothing (the sign-in form keeps
    /// what was typed).
    pub fn ended(self) {
        if self.0.get_untracked() != SessionState::SignedOut {
            self.0.set(SessionState::SignedOut);
        }
    }
}
