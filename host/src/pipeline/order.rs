//! Where a plugin sits in the chain: Bifrost runs `pre_builtin` plugins
//! before its built-in ones and `post_builtin` plugins after them, each group
//! sorted by `order` (lower first), ties kept in the order they were
//! configured.

use std::fmt;
use std::str::FromStr;

/// A plugin's group, relative to Bifrost's built-in plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Placement {
    /// Before the built-in plugins.
    PreBuiltin,
    /// After the built-in plugins (Bifrost's default).
    #[default]
    PostBuiltin,
}

impl Placement {
    /// `pre_builtin` or `post_builtin`, as Bifrost's config spells it.
    pub fn name(self) -> &'static str {
        match self {
            Placement::PreBuiltin => "pre_builtin",
            Placement::PostBuiltin => "post_builtin",
        }
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Placement {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pre_builtin" => Ok(Placement::PreBuiltin),
            "post_builtin" => Ok(Placement::PostBuiltin),
            other => Err(format!(
                "unknown placement `{other}` (expected `pre_builtin` or `post_builtin`)"
            )),
        }
    }
}

/// The indices of `keys` (placement, order) in the order Bifrost runs the
/// plugins: by placement, then order; a stable sort keeps file order on ties.
pub fn run_order(keys: &[(Placement, i64)]) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..keys.len()).collect();
    indices.sort_by_key(|&i| keys[i]);
    indices
}

#[cfg(test)]
mod tests {
    use super::*;
    use Placement::*;

    #[test]
    fn placement_first_then_order_then_file_order() {
        let keys = [
            (PostBuiltin, 0),
            (PreBuiltin, 5),
            (PostBuiltin, -1),
            (PreBuiltin, 5),
            (PostBuiltin, 0),
        ];
        assert_eq!(run_order(&keys), [1, 3, 2, 0, 4]);
    }

    #[test]
    fn placements_parse_as_bifrost_spells_them() {
        assert_eq!("pre_builtin".parse(), Ok(PreBuiltin));
        assert_eq!(Placement::default(), PostBuiltin);
        assert!("early"
            .parse::<Placement>()
            .unwrap_err()
            .contains("`early`"));
    }
}
