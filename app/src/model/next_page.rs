//! Where to go after signing in: the page a signed-out visitor asked for (`/login?next=…`), so a
//! deep link survives the sign-in. Only a path on this site is followed, never another site
//! (`//evil.example`, `https://…`, `/\evil`): anything else goes home.

/// The longest `next` followed; longer ones go home.
const MAX_NEXT: usize = 2048;

/// `next` if it is a path of this site worth returning to, else `None`.
pub fn safe_next(next: &str) -> Option<&str> {
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let ok = next.len() <= MAX_NEXT
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && !matches!(path, "/login" | "/setup");
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_of_this_site_are_followed() {
        assert_eq!(safe_next("/user/tokens"), Some("/user/tokens"));
        assert_eq!(safe_next("/orgs/1/workspaces/2/runs?x=1"), Some("/orgs/1/workspaces/2/runs?x=1"));
        for refused in [
            "",
            "user/tokens",
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "/login",
            "/login?next=/x",
            "/setup",
            "/a\nb",
        ] {
            assert_eq!(safe_next(refused), None, "{refused:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(3000))), None);
    }
}
