//! RegEx User Parameters (`RegExUserParameters`): a pre-processor of HTTP samplers that sets
//! the values of the sampler's arguments from the groups of a Regular Expression Extractor's
//! matches, as JMeter's `RegExUserParameters.process` and `buildParamsMap`: with the reference
//! name `R` and group numbers `n` (names) and `v` (values), when `R_matchNr`, `R_1_gn` and
//! `R_1_gv` are set, match `i` of `1..=R_matchNr` maps `R_i_gn` to `R_i_gv` (a later match
//! wins), and every argument whose name is in the map gets that value for this request (the
//! plan's value otherwise); without those variables nothing changes. Several elements in scope
//! apply in order.
//!
//! The compiled request holds each argument's value as a reference to a variable of its own
//! ([`hidden`]), which [`RegexParams::apply`] sets before the request is rendered (so the value
//! is URL- or form-encoded as any run-time value) and [`RegexParams::clear`] removes after.

use std::collections::HashMap;

use crate::text::template::{Template, UserCtx};

/// The variable holding the value of argument `i` of a sampler while it is rendered.
pub(crate) fn hidden(i: usize) -> String {
    format!("loadlake.regexup.{i}")
}

/// One RegEx User Parameters element.
#[derive(Debug, Clone)]
pub(crate) struct RegexParamSource {
    /// `RegExUserParameters.regex_ref_name`.
    pub(crate) ref_name: String,
    /// `RegExUserParameters.param_names_gr_nr`.
    pub(crate) names_group: String,
    /// `RegExUserParameters.param_values_gr_nr`.
    pub(crate) values_group: String,
}

impl RegexParamSource {
    /// JMeter's `buildParamsMap`: `None` when the variables are not there (or the map is
    /// empty); a value `None` when the match has no such group variable (Java's `null`, which
    /// changes nothing).
    fn params(&self, vars: &HashMap<String, String>) -> Option<HashMap<String, Option<String>>> {
        let var = |i: usize, group: &str| vars.get(&format!("{}_{i}_g{group}", self.ref_name));
        let count = vars.get(&format!("{}_matchNr", self.ref_name))?;
        var(1, &self.names_group)?;
        var(1, &self.values_group)?;
        // `Integer.parseInt`; JMeter would fail the pre-processor on a count that is not one.
        let n: usize = count.parse().ok()?;
        let mut map = HashMap::new();
        for i in 1..=n {
            if let Some(name) = var(i, &self.names_group) {
                map.insert(name.clone(), var(i, &self.values_group).cloned());
            }
        }
        (!map.is_empty()).then_some(map)
    }
}

/// The RegEx User Parameters in an HTTP sampler's scope and the sampler's arguments.
#[derive(Debug, Clone)]
pub(crate) struct RegexParams {
    /// The elements, outermost first.
    pub(crate) sources: Vec<RegexParamSource>,
    /// Each argument's name and value as written in the plan, in order; argument `i` is sent
    /// as the variable [`hidden`]`(i)`.
    pub(crate) args: Vec<(Template, Template)>,
}

impl RegexParams {
    /// Sets each argument's variable to its value for this request.
    pub(crate) fn apply(&self, user: &mut UserCtx) {
        let raw = |v: &str| v.to_string();
        let maps: Vec<_> = self
            .sources
            .iter()
            .filter_map(|s| s.params(&user.vars))
            .collect();
        for (i, (name, value)) in self.args.iter().enumerate() {
            let name = name.render(user, &raw);
            let mut v = value.render(user, &raw);
            for m in &maps {
                if let Some(Some(x)) = m.get(&name) {
                    v.clone_from(x);
                }
            }
            user.vars.insert(hidden(i), v);
        }
    }

    /// Removes the arguments' variables (they are not the user's).
    pub(crate) fn clear(&self, user: &mut UserCtx) {
        for i in 0..self.args.len() {
            user.vars.remove(&hidden(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::template::tests::user;

    #[test]
    fn matches_map_names_to_values_as_build_params_map_does() {
        let s = RegexParamSource {
            ref_name: "p".into(),
            names_group: "1".into(),
            values_group: "2".into(),
        };
        let vars = user(&[
            ("p_matchNr", "3"),
            ("p_1_g1", "toto"),
            ("p_1_g2", "vtoto"),
            ("p_2_g1", "tutu"),
            ("p_2_g2", "vtutu"),
            // A later match of the same name wins; a match without its value group is null.
            ("p_3_g1", "toto"),
            ("p_3_g2", "again"),
        ]);
        let m = s.params(&vars.vars).unwrap_or_default();
        assert_eq!(m.len(), 2);
        assert_eq!(m.get("toto"), Some(&Some("again".to_string())));
        assert_eq!(m.get("tutu"), Some(&Some("vtutu".to_string())));
        // No matchNr, or no first match's groups: nothing.
        assert!(
            s.params(&user(&[("p_1_g1", "a"), ("p_1_g2", "b")]).vars)
                .is_none()
        );
        assert!(
            s.params(&user(&[("p_matchNr", "1"), ("p_1_g1", "a")]).vars)
                .is_none()
        );
        assert!(
            s.params(&user(&[("p_matchNr", "0"), ("p_1_g1", "a"), ("p_1_g2", "b")]).vars)
                .is_none()
        );
    }
}
