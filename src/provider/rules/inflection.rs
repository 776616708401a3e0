//! English singular and plural forms of nouns, regular and irregular.

/// (singular, plural) pairs that no suffix rule produces.
const IRREGULAR: [(&str, &str); 40] = [
    ("person", "people"),
    ("child", "children"),
    ("man", "men"),
    ("woman", "women"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("foot", "feet"),
    ("tooth", "teeth"),
    ("ox", "oxen"),
    ("criterion", "criteria"),
    ("phenomenon", "phenomena"),
    ("analysis", "analyses"),
    ("thesis", "theses"),
    ("crisis", "crises"),
    ("diagnosis", "diagnoses"),
    ("index", "indices"),
    ("matrix", "matrices"),
    ("vertex", "vertices"),
    ("appendix", "appendices"),
    ("cactus", "cacti"),
    ("fungus", "fungi"),
    ("syllabus", "syllabi"),
    ("alumnus", "alumni"),
    ("medium", "media"),
    ("curriculum", "curricula"),
    ("quiz", "quizzes"),
    ("hero", "heroes"),
    ("potato", "potatoes"),
    ("tomato", "tomatoes"),
    ("echo", "echoes"),
    ("leaf", "leaves"),
    ("knife", "knives"),
    ("life", "lives"),
    ("wife", "wives"),
    ("wolf", "wolves"),
    ("shelf", "shelves"),
    ("half", "halves"),
    ("thief", "thieves"),
    ("loaf", "loaves"),
    ("calf", "calves"),
];

/// Nouns whose plural is the same word.
const INVARIANT: [&str; 14] = [
    "sheep",
    "fish",
    "deer",
    "series",
    "species",
    "news",
    "aircraft",
    "moose",
    "equipment",
    "information",
    "feedback",
    "software",
    "staff",
    "data",
];

/// Plurals ending in `ies` whose singular ends in `ie`, not `y`.
const IE_WORDS: [&str; 10] = [
    "movie", "cookie", "pie", "tie", "zombie", "rookie", "selfie", "calorie", "brownie", "smoothie",
];

/// Singular nouns ending in `s` that the suffix rules would otherwise shorten.
const SINGULAR_S: [&str; 12] = [
    "bus", "gas", "canvas", "lens", "atlas", "alias", "chassis", "plus", "bonus", "campus",
    "census", "virus",
];

pub fn singular(word: &str) -> String {
    if let Some((s, _)) = IRREGULAR.iter().find(|(_, p)| *p == word) {
        return (*s).to_owned();
    }
    // Compounds keep the irregular plural of their last part: salespeople,
    // tradesmen, chairwomen.
    for (one, many) in [("person", "people"), ("sman", "smen"), ("swoman", "swomen")] {
        if let Some(stem) = word.strip_suffix(many)
            && !stem.is_empty()
        {
            return format!("{stem}{one}");
        }
    }
    if IRREGULAR.iter().any(|(s, _)| *s == word)
        || INVARIANT.contains(&word)
        || SINGULAR_S.contains(&word)
        || word.len() <= 2
    {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix("ies") {
        let ie = format!("{stem}ie");
        if IE_WORDS.contains(&ie.as_str()) {
            return ie;
        }
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes", "zzes", "uses"] {
        if let Some(stem) = word.strip_suffix("es")
            && word.ends_with(suffix)
        {
            // houses, caches, courses keep their `e`; only the sibilant endings drop it.
            if suffix == "ches"
                && ["cache", "niche", "headache", "avalanche", "moustache"]
                    .contains(&stem_e(stem).as_str())
            {
                return stem_e(stem);
            }
            if suffix == "uses"
                && !["status", "bus", "campus", "virus", "bonus", "census"].contains(&stem)
            {
                return stem_e(stem);
            }
            return stem.to_owned();
        }
    }
    if word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix('s') {
        return stem.to_owned();
    }
    word.to_owned()
}

fn stem_e(stem: &str) -> String {
    format!("{stem}e")
}

pub fn plural(word: &str) -> String {
    if let Some((_, p)) = IRREGULAR.iter().find(|(s, _)| *s == word) {
        return (*p).to_owned();
    }
    if INVARIANT.contains(&word) {
        return word.to_owned();
    }
    let bytes = word.as_bytes();
    let consonant_before = |n: usize| {
        bytes
            .len()
            .checked_sub(n)
            .and_then(|i| bytes.get(i))
            .is_some_and(|c| !b"aeiou".contains(c))
    };
    if word.ends_with('y') && consonant_before(2) {
        return format!("{}ies", &word[..word.len() - 1]);
    }
    if word.ends_with('s')
        || word.ends_with('x')
        || word.ends_with('z')
        || word.ends_with("sh")
        || word.ends_with("ch")
    {
        return format!("{word}es");
    }
    format!("{word}s")
}

/// Whether `word` reads as a plural noun.
pub fn looks_plural(word: &str) -> bool {
    singular(word) != word || IRREGULAR.iter().any(|(_, p)| *p == word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (s, p) in [
            ("book", "books"),
            ("category", "categories"),
            ("person", "people"),
            ("child", "children"),
            ("status", "statuses"),
            ("address", "addresses"),
            ("box", "boxes"),
            ("match", "matches"),
            ("movie", "movies"),
            ("house", "houses"),
            ("course", "courses"),
            ("day", "days"),
            ("series", "series"),
            ("leaf", "leaves"),
            ("analysis", "analyses"),
            ("bus", "buses"),
            ("quiz", "quizzes"),
            ("warehouse", "warehouses"),
            ("cache", "caches"),
            ("dish", "dishes"),
            ("class", "classes"),
        ] {
            assert_eq!(plural(s), p, "plural of {s}");
            assert_eq!(singular(p), s, "singular of {p}");
            assert_eq!(singular(s), s, "singular of singular {s}");
        }
    }
}
