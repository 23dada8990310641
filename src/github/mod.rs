//! GitHub Actions secrets and variables: plan, sealed-box encryption, paced writes (issue 4).
//!
//! `names` turns mapped variables into what each `github:` target should hold and validates it
//! before any request; `plan` compares that with GitHub's listings, the ownership marker
//! (`marker`) and the local record (`record`); `apply` performs the writes through `client`
//! (one connection, serial, paced by `pacer`, bounded retries), sealing secrets with `seal`.
//! Nothing here prints: the command gets data back, and logs through an [`Observer`].

mod api;
mod apply;
mod client;
mod dates;
mod env;
mod marker;
mod names;
mod pacer;
mod plan;
mod record;
mod scope;
mod seal;

pub(crate) use api::Written;
pub(crate) use apply::apply;
pub(crate) use client::{ApiError, Client, Observer};
pub(crate) use env::Connection;
pub(crate) use marker::marker_name;
pub(crate) use names::{Desired, desired};
pub(crate) use plan::{
    Action, MarkerAction, Options, Outcome, PlanError, TargetPlan, fetch_and_plan,
};
pub(crate) use record::Record;
