//! Starter designs: a catalog of realistic APIs to begin from
//! (`apiforge templates`, `apiforge scaffold --template NAME`). Each is an ApiDesign
//! JSON file under `assets/templates/`, compiled into the binary.

use crate::design::ApiDesign;

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub name: &'static str,
    /// One line for listings.
    pub description: &'static str,
    pub design: ApiDesign,
}

/// (name, one-line description, design JSON), in catalog order.
const CATALOG: [(&str, &str, &str); 6] = [
    (
        "todo",
        "Projects and tasks with status, priority, due dates and complete/reopen actions",
        include_str!("../assets/templates/todo.json"),
    ),
    (
        "blog",
        "Authors, posts and moderated comments, with publish and approve actions",
        include_str!("../assets/templates/blog.json"),
    ),
    (
        "shop",
        "Categories, products, customers, orders and order items, with cancel/ship actions",
        include_str!("../assets/templates/shop.json"),
    ),
    (
        "bookings",
        "Rooms, guests and bookings, with confirm and cancel actions",
        include_str!("../assets/templates/bookings.json"),
    ),
    (
        "inventory",
        "Items with suppliers, warehouse locations and stock movements",
        include_str!("../assets/templates/inventory.json"),
    ),
    (
        "notes",
        "Notebooks and notes behind an API key",
        include_str!("../assets/templates/notes.json"),
    ),
];

fn parse(name: &'static str, description: &'static str, json: &str) -> Template {
    let design = serde_json::from_str(json)
        .expect("built-in templates are compiled in and every one is parsed by the tests");
    Template {
        name,
        description,
        design,
    }
}

/// Every template, in catalog order.
pub fn all() -> Vec<Template> {
    CATALOG
        .iter()
        .map(|(name, description, json)| parse(name, description, json))
        .collect()
}

/// The template called `name`, if there is one.
pub fn get(name: &str) -> Option<Template> {
    CATALOG
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(name, description, json)| parse(name, description, json))
}

/// The template names, for "unknown template" messages.
pub fn names() -> Vec<&'static str> {
    CATALOG.iter().map(|(name, _, _)| *name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_names_are_unique() {
        let all = all();
        assert_eq!(all.len(), CATALOG.len());
        let mut names: Vec<_> = all.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
        for t in &all {
            assert!(!t.design.resources.is_empty(), "{}", t.name);
            assert_eq!(get(t.name).as_ref(), Some(t));
        }
        assert!(get("nope").is_none());
    }
}
