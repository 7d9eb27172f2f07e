//! Where a request's column tags are: the [`Assembler`](super::Assembler) looks up the same
//! few tags (name, url, status, error, …) in every request, and requests differ in tag values
//! much more often than in tag names (a test's requests have a few sets of names, e.g. with and
//! without `error_code`, in any order). A [`Layout`] holds their positions (and which tags go
//! into `vars`) for one set of tag and metadata names; [`Layouts`] keeps the last few and
//! finds the one of a request: for the Points of one generation without comparing anything, for
//! any other by comparing the names alone.

use super::{COLUMN_TAGS, Tags, tag_at};

#[cfg(test)]
mod tests;

/// The tags a request's sample reads, as indexes of [`LOOKED_UP`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Col {
    Name,
    Url,
    Status,
    Error,
    ErrorCode,
    ExpectedResponse,
    Scenario,
    Vu,
}

/// The names of the tags [`Col`] stands for, in its order.
const LOOKED_UP: [&str; 8] = [
    "name",
    "url",
    "status",
    "error",
    "error_code",
    "expected_response",
    "scenario",
    "vu",
];

/// Layouts kept at most: a test's requests seldom have more sets of names.
const KEPT: usize = 8;

/// The layouts of the last sets of names, the last one used first.
#[derive(Debug)]
pub(super) struct Layouts(Vec<Layout>);

impl Default for Layouts {
    fn default() -> Self {
        Layouts(vec![Layout::default()])
    }
}

impl Layouts {
    /// The layout of `tags` and `meta` (of `generation`, when the reader knows it): a kept one
    /// when one has their names, else a new one (the one used longest ago is forgotten).
    pub(super) fn fit(&mut self, tags: &Tags, meta: &Tags, generation: Option<u64>) -> &mut Layout {
        let kept = &mut self.0;
        if generation.is_none() || generation != kept[0].generation {
            let of_generation = |l: &Layout| generation.is_some() && l.generation == generation;
            let found = kept.iter().position(of_generation).or_else(|| {
                kept.iter()
                    .position(|l| same_names(&l.tag_names, tags) && same_names(&l.meta_names, meta))
            });
            match found {
                Some(i) => kept[..=i].rotate_right(1),
                None => {
                    if kept.len() < KEPT {
                        kept.push(Layout::default());
                    }
                    kept.rotate_right(1);
                    kept[0].find(tags, meta);
                }
            }
            kept[0].generation = generation;
        }
        &mut kept[0]
    }

    /// The layout [`Layouts::fit`] gave last.
    pub(super) fn last(&self) -> &Layout {
        &self.0[0]
    }
}

/// The positions of the [`LOOKED_UP`] tags in tags and metadata of one set of names.
#[derive(Debug, Default)]
pub(super) struct Layout {
    /// The tag names it was found for.
    tag_names: Vec<String>,
    /// The metadata names it was found for.
    meta_names: Vec<String>,
    /// The [`super::Point::generation`] last found to have these names (`None`: compare them).
    generation: Option<u64>,
    /// Whether the request's names are the file's columns already ([`Layout::names_noted`]).
    noted: bool,
    /// Position of each [`LOOKED_UP`] tag in the tags.
    in_tags: [Option<usize>; LOOKED_UP.len()],
    /// Position of `vu` in the metadata.
    vu_in_meta: Option<usize>,
    /// Positions, in the tags followed by the metadata, of the names without a column of
    /// their own ([`COLUMN_TAGS`]): the `vars` when their values are not empty.
    vars: Vec<usize>,
}

impl Layout {
    /// Makes this the layout of the names of `tags` and `meta`.
    fn find(&mut self, tags: &Tags, meta: &Tags) {
        assign_names(&mut self.tag_names, tags);
        assign_names(&mut self.meta_names, meta);
        self.noted = false;
        for (at, name) in self.in_tags.iter_mut().zip(LOOKED_UP) {
            *at = tag_at(tags, name);
        }
        self.vu_in_meta = tag_at(meta, "vu");
        self.vars.clear();
        let names = tags.iter().chain(meta).map(|(k, _)| k.as_str());
        self.vars.extend(
            names
                .enumerate()
                .filter(|(_, k)| !COLUMN_TAGS.contains(k))
                .map(|(i, _)| i),
        );
    }

    /// The value of tag `col` in `tags` (with this layout's names).
    pub(super) fn get<'t>(&self, tags: &'t Tags, col: Col) -> Option<&'t str> {
        self.in_tags[col as usize].map(|i| tags[i].1.as_str())
    }

    /// The VU: the metadata's `vu`, else the tag's.
    pub(super) fn vu<'t>(&self, tags: &'t Tags, meta: &'t Tags) -> Option<&'t str> {
        match self.vu_in_meta {
            Some(i) => Some(meta[i].1.as_str()),
            None => self.get(tags, Col::Vu),
        }
    }

    /// `vars`: every non-empty tag and metadata value without a column of its own, in the
    /// order of the tags, then the metadata.
    pub(super) fn vars<'t>(&self, tags: &'t Tags, meta: &'t Tags) -> Vec<(&'t str, &'t str)> {
        let pair = |i: usize| match tags.get(i) {
            Some(p) => p,
            None => &meta[i - tags.len()],
        };
        self.vars
            .iter()
            .map(|&i| pair(i))
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// The tag and metadata names, the first time they are asked for since they changed (an
    /// imported request's names are the file's columns); empty after.
    pub(super) fn names_noted(&mut self) -> impl Iterator<Item = &String> {
        let new = !std::mem::replace(&mut self.noted, true);
        let names = if new {
            (&self.tag_names[..], &self.meta_names[..])
        } else {
            (&[][..], &[][..])
        };
        names.0.iter().chain(names.1)
    }
}

/// Whether `names` are the names of `tags`.
fn same_names(names: &[String], tags: &Tags) -> bool {
    names.len() == tags.len() && names.iter().zip(tags).all(|(n, (k, _))| n == k)
}

/// `names` becomes the names of `tags`, its buffers reused.
fn assign_names(names: &mut Vec<String>, tags: &Tags) {
    names.truncate(tags.len());
    for (i, (k, _)) in tags.iter().enumerate() {
        match names.get_mut(i) {
            Some(n) => {
                n.clear();
                n.push_str(k);
            }
            None => names.push(k.clone()),
        }
    }
}
