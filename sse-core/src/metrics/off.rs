//! Without the `metrics` feature: the same calls, empty, on types of no
//! size, so that nothing is compiled in.

use super::EndReason;
use crate::compression::Codec;
use crate::hub::GapReason;

#[derive(Debug, Default)]
pub(crate) struct HubMetrics(());

impl HubMetrics {
    #[inline(always)]
    pub(crate) fn published(&self) {}
    #[inline(always)]
    pub(crate) fn gap(&self, _reason: GapReason) {}
    #[inline(always)]
    pub(crate) fn refused(&self, _per_topic: bool) {}
    #[inline(always)]
    pub(crate) fn joined(&self) -> SubscriberMetrics {
        SubscriberMetrics(())
    }
    #[inline(always)]
    pub(crate) fn left(&self) {}
}

#[derive(Debug, Default)]
pub(crate) struct SubscriberMetrics(());

impl SubscriberMetrics {
    #[inline(always)]
    pub(crate) fn delivered(&self, _replayed: bool) {}
    #[inline(always)]
    pub(crate) fn for_body(&self, _note: EndNote) -> StreamMetrics {
        StreamMetrics(())
    }
}

#[derive(Clone, Default)]
pub(crate) struct EndNote(());

impl EndNote {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self(())
    }
    #[inline(always)]
    pub(crate) fn set(&self, _reason: EndReason) {}
}

#[derive(Default)]
pub(crate) struct StreamMetrics(());

impl StreamMetrics {
    #[inline(always)]
    pub(crate) fn polled(&mut self) {}
    #[inline(always)]
    pub(crate) fn replace(&mut self, _other: Self) {}
    #[inline(always)]
    pub(crate) fn written(&self, _bytes: usize, _codec: Option<Codec>) {}
    #[inline(always)]
    pub(crate) fn uncompressed(&self, _bytes: usize) {}
    #[inline(always)]
    pub(crate) fn keep_alive(&self) {}
    #[inline(always)]
    pub(crate) fn ended(&mut self, _failed: bool) {}
}
