//! The HTTP Cache Manager (`CacheManager`) compiled into [`CacheSettings`]; the store and
//! JMeter's rules are in [`crate::http::cache`].

use crate::compile::{Compiler, Scope};
use crate::error::RunnerError;
use crate::model::CacheSettings;

impl Compiler<'_> {
    /// The innermost Cache Manager in `scope` (a sampler holds one), with the run's
    /// `cacheable_methods` (default `GET`). Only `cache_manager.cached_resource_mode`
    /// `RETURN_NO_SAMPLE` (JMeter's default) is implemented.
    pub(crate) fn cache_settings(
        &self,
        scope: &Scope<'_>,
    ) -> Result<Option<CacheSettings>, RunnerError> {
        let Some(m) = scope.cache.last() else {
            return Ok(None);
        };
        let props = self.ev.props();
        if let Some(mode) = props
            .get("cache_manager.cached_resource_mode")
            .filter(|m| m.trim() != "RETURN_NO_SAMPLE")
        {
            return Err(RunnerError::setting(
                &m.name,
                "cache_manager.cached_resource_mode (-J)",
                mode,
                "only RETURN_NO_SAMPLE (JMeter's default) is implemented",
            ));
        }
        let methods = props
            .get("cacheable_methods")
            .map_or("GET", String::as_str)
            .split([' ', ','])
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_uppercase)
            .collect();
        let max = self.number(&m.name, "maxSize", m.prop_str("maxSize"), 5000)?;
        Ok(Some(CacheSettings {
            use_expires: self.flag(m, "useExpires", false)?,
            max_size: usize::try_from(max).unwrap_or(0).max(1),
            cacheable_methods: methods,
        }))
    }
}
