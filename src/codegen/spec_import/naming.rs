//! Names as a design wants them: snake_case, singular resource names, plural
//! collections.

/// `petId`, `Pet-Name`, `pet name` → `pet_id`, `pet_name`, `pet_name`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower_or_digit = false;
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            if ch.is_ascii_uppercase() && prev_lower_or_digit && !out.ends_with('_') {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
            prev_lower_or_digit = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower_or_digit = false;
        }
    }
    let out = out.trim_matches('_').to_owned();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("n_{out}")
    } else {
        out
    }
}

pub(super) fn singular(plural: &str) -> String {
    const IRREGULAR: [(&str, &str); 6] = [
        ("people", "person"),
        ("children", "child"),
        ("men", "man"),
        ("women", "woman"),
        ("mice", "mouse"),
        ("geese", "goose"),
    ];
    if let Some((p, s)) = IRREGULAR.iter().find(|(p, _)| plural.ends_with(p)) {
        return format!("{}{s}", &plural[..plural.len() - p.len()]);
    }
    if let Some(stem) = plural.strip_suffix("ies") {
        format!("{stem}y")
    } else if ["sses", "xes", "ches", "shes", "zes"]
        .iter()
        .any(|e| plural.ends_with(e))
    {
        plural[..plural.len() - 2].to_owned()
    } else if plural.ends_with('s') && !plural.ends_with("ss") {
        plural[..plural.len() - 1].to_owned()
    } else {
        plural.to_owned()
    }
}

pub(super) fn plural(singular: &str) -> String {
    if singular == "person" || singular.ends_with("_person") {
        return format!("{}people", &singular[..singular.len() - "person".len()]);
    }
    if singular.ends_with('y')
        && !singular.ends_with("ay")
        && !singular.ends_with("ey")
        && !singular.ends_with("oy")
    {
        format!("{}ies", &singular[..singular.len() - 1])
    } else if ["s", "x", "ch", "sh", "z"]
        .iter()
        .any(|e| singular.ends_with(e))
    {
        format!("{singular}es")
    } else {
        format!("{singular}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_snake_case() {
        assert_eq!(snake_case("petId"), "pet_id");
        assert_eq!(snake_case("OrderItem"), "order_item");
        assert_eq!(snake_case("order-items"), "order_items");
        assert_eq!(snake_case("HTTPStatus"), "httpstatus");
        assert_eq!(snake_case("2fa"), "n_2fa");
        assert_eq!(snake_case("already_snake"), "already_snake");
    }

    #[test]
    fn plurals_and_singulars() {
        for (s, p) in [
            ("pet", "pets"),
            ("category", "categories"),
            ("box", "boxes"),
            ("person", "people"),
            ("day", "days"),
            ("address", "addresses"),
        ] {
            assert_eq!(plural(s), p);
            assert_eq!(singular(p), s);
        }
    }
}
