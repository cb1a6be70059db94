//! What every connection of the emulator shares: its configuration, its state behind one lock,
//! the call counts, the injected faults and the rate limiter. The server and the control API
//! both work on it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::clock::IdGenerator;
use crate::faults::{Faults, OperationLimiter, RateLimiter};
use crate::fixture::Fixture;
use crate::identity::Registration;
use crate::state::{Lifecycle, State};

/// Everything the emulator starts with.
#[derive(Clone, Debug, Default)]
pub struct EmulatorConfig {
    pub fixture: Fixture,
    pub lifecycle: Lifecycle,
    /// Requests per second per account and region before ThrottlingException.
    pub rate_limit: Option<f64>,
}

/// State shared by every connection.
pub struct Shared {
    config: EmulatorConfig,
    pub(crate) ids: Arc<IdGenerator>,
    state: Mutex<State>,
    pub calls: Mutex<BTreeMap<String, u64>>,
    /// Of those, the ones the rate limit turned away, by `service:Operation`.
    pub throttled: Mutex<BTreeMap<String, u64>>,
    pub faults: Mutex<Faults>,
    pub(crate) limiter: Option<Mutex<RateLimiter>>,
    /// The quotas of single operations (`Lifecycle::operation_rate_limits`).
    pub(crate) operation_limiter: Mutex<OperationLimiter>,
    /// Identity registered at runtime (OIDC providers, trust, Pod Identity associations), applied
    /// again over the fixture by [`Shared::reset`].
    registrations: Mutex<Vec<Registration>>,
    /// A test's check of every successful DataZone answer (operation, JSON body → problems);
    /// an answer with problems goes out as an InternalServerException naming them.
    pub answer_check: std::sync::OnceLock<AnswerCheck>,
    /// A test's rewrite of every successful DataZone answer before it goes out (to try a client
    /// on answers DataZone may give: members left out, enum values it does not know yet).
    pub answer_rewrite: std::sync::OnceLock<AnswerRewrite>,
}

pub type AnswerCheck = Box<dyn Fn(&str, &serde_json::Value) -> Vec<String> + Send + Sync>;
pub type AnswerRewrite = Box<dyn Fn(&str, &mut serde_json::Value) + Send + Sync>;

impl Shared {
    pub fn new(config: EmulatorConfig) -> Self {
        let ids = Arc::new(IdGenerator::default());
        let state = State::new(config.fixture.clone(), config.lifecycle.clone(), ids.clone());
        let limiter = config.rate_limit.map(|tps| Mutex::new(RateLimiter::new(tps)));
        let lifecycle = &config.lifecycle;
        let operation_limiter = Mutex::new(OperationLimiter::with_others(
            &lifecycle.operation_rate_limits,
            lifecycle.other_operations_rate,
        ));
        Self {
            config,
            ids,
            state: Mutex::new(state),
            calls: Mutex::default(),
            throttled: Mutex::default(),
            faults: Mutex::default(),
            limiter,
            operation_limiter,
            registrations: Mutex::default(),
            answer_check: std::sync::OnceLock::new(),
            answer_rewrite: std::sync::OnceLock::new(),
        }
    }

    pub fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `registration` now and after every reset.
    pub fn register(&self, registration: Registration) {
        let mut registrations = self.registrations.lock().unwrap_or_else(PoisonError::into_inner);
        registration.apply(&mut self.lock_state());
        registrations.push(registration);
    }

    /// Back to the fixture (plus the runtime identity registrations): state, call counts and faults.
    pub fn reset(&self) {
        let registrations = self.registrations.lock().unwrap_or_else(PoisonError::into_inner);
        let mut state = State::new(self.config.fixture.clone(), self.config.lifecycle.clone(), self.ids.clone());
        for registration in registrations.iter() {
            registration.apply(&mut state);
        }
        *self.lock_state() = state;
        drop(registrations);
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.throttled.lock().unwrap_or_else(PoisonError::into_inner).clear();
        self.faults.lock().unwrap_or_else(PoisonError::into_inner).rules.clear();
    }
}
