//! IAM's pagination, the same for every List action: `MaxItems` (1–1000, default 100) and `Marker` in,
//! `IsTruncated` and `Marker` out (see `render::pagination`).

use super::validate;
use crate::protocol::AwsError;
use crate::protocol::Params;
use crate::state::Page;

pub struct Paging<'a> {
    pub marker: Option<&'a str>,
    pub max: usize,
}

impl<'a> Paging<'a> {
    /// The request's `MaxItems` (validated with IAM's text) and `Marker`.
    pub fn from_params(p: &'a Params) -> Result<Self, AwsError> {
        Ok(Paging {
            marker: p.get("Marker"),
            max: validate::max_items(p.int("MaxItems")?)?,
        })
    }

    /// One page of a listing built in memory, in its order; the marker is the position the next page
    /// starts at. (Listings the store pages itself, like ListRoles, take `marker` and `max` instead.)
    pub fn page<T>(&self, items: Vec<T>) -> Result<Page<T>, AwsError> {
        let start: usize = match self.marker {
            None => 0,
            Some(m) => m
                .parse()
                .map_err(|_| AwsError::invalid_input(format!("Invalid Marker: {m}")))?,
        };
        Page::cut(
            items
                .into_iter()
                .enumerate()
                .skip(start)
                .map(|(position, item)| Ok((position.to_string(), item))),
            self.max,
        )
    }
}
