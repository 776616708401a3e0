//! A small language for what a design must contain, so parameterised tests read as
//! tables: `res:book=title,price`, `enum:task.priority=low,high`, `rel:book>publisher`,
//! `filter:task=priority` (filter or search), `search:book=title`, `sort:book=price`,
//! `type:book.price=decimal`, `unique:book.isbn`, `required:book.title`,
//! `optional:book.notes`, `range:review.rating=1..5`, `len:book.title=..200`,
//! `unit:plot.size_square_meters=square meters`, `default:task.done=false`,
//! `auth:none|api_key|jwt`, `title:Bookstore API`, `nores:visitor`,
//! `nofield:book.author`, `count:3` (number of resources), `page:book=50..100`,
//! `readonly:book`.

#![allow(dead_code)]

use apiforge::design::validate::type_name;
use apiforge::design::{ApiDesign, AuthScheme};

pub fn check(design: &ApiDesign, expectations: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for e in expectations {
        if let Err(msg) = one(design, e) {
            out.push(format!("{e}: {msg}"));
        }
    }
    out
}

fn field<'a>(d: &'a ApiDesign, path: &str) -> Result<&'a apiforge::design::Field, String> {
    let (r, f) = path.split_once('.').ok_or("path must be resource.field")?;
    let res = d.resource(r).ok_or_else(|| format!("no resource `{r}`"))?;
    res.field(f).ok_or_else(|| {
        let names: Vec<&str> = res.fields.iter().map(|f| f.name.as_str()).collect();
        format!("`{r}` has no field `{f}` (has {names:?})")
    })
}

fn one(d: &ApiDesign, e: &str) -> Result<(), String> {
    let (kind, arg) = e.split_once(':').ok_or("expectation needs kind:arg")?;
    let (target, value) = arg.split_once('=').unwrap_or((arg, ""));
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    match kind {
        "res" => {
            let r = d.resource(target).ok_or_else(|| {
                let names: Vec<&str> = d.resources.iter().map(|r| r.name.as_str()).collect();
                format!("no resource `{target}` (has {names:?})")
            })?;
            for f in list(value) {
                if r.field(&f).is_none() {
                    let names: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
                    return Err(format!("no field `{f}` (has {names:?})"));
                }
            }
            Ok(())
        }
        "nores" => match d.resource(target) {
            None => Ok(()),
            Some(_) => Err("resource exists".into()),
        },
        "nofield" => match field(d, target) {
            Err(_) => Ok(()),
            Ok(_) => Err("field exists".into()),
        },
        "count" => {
            let n: usize = target.parse().map_err(|_| "count needs a number")?;
            if d.resources.len() == n {
                Ok(())
            } else {
                let names: Vec<&str> = d.resources.iter().map(|r| r.name.as_str()).collect();
                Err(format!("{} resources: {names:?}", d.resources.len()))
            }
        }
        "enum" => {
            let f = field(d, target)?;
            for v in list(value) {
                if !f.enum_values.contains(&v) {
                    return Err(format!("values are {:?}", f.enum_values));
                }
            }
            Ok(())
        }
        "rel" => {
            let (c, p) = target.split_once('>').ok_or("rel:child>parent")?;
            let r = d.resource(c).ok_or_else(|| format!("no resource `{c}`"))?;
            match r.relation_to(p) {
                Some(rel) if value.is_empty() || rel.field == value => Ok(()),
                Some(rel) => Err(format!("field is {}", rel.field)),
                None => Err(format!("relations: {:?}", r.relations)),
            }
        }
        "norel" => {
            let (c, p) = target.split_once('>').ok_or("norel:child>parent")?;
            match d.resource(c).and_then(|r| r.relation_to(p)) {
                None => Ok(()),
                Some(_) => Err("relation exists".into()),
            }
        }
        "filter" | "search" | "sort" | "onlyfilter" => {
            let r = d
                .resource(target)
                .ok_or_else(|| format!("no resource `{target}`"))?;
            let l = r.operations.list.as_ref().ok_or("no list operation")?;
            for f in list(value) {
                let ok = match kind {
                    "filter" => l.filters.contains(&f) || l.search.contains(&f),
                    "onlyfilter" => l.filters.contains(&f),
                    "search" => l.search.contains(&f),
                    _ => l.sort.contains(&f),
                };
                if !ok {
                    return Err(format!(
                        "filters {:?}, search {:?}, sort {:?}",
                        l.filters, l.search, l.sort
                    ));
                }
            }
            Ok(())
        }
        "type" => {
            let f = field(d, target)?;
            if type_name(f.ty) == value {
                Ok(())
            } else {
                Err(format!("type is {}", type_name(f.ty)))
            }
        }
        "unique" => field(d, target)?
            .unique
            .then_some(())
            .ok_or("not unique".into()),
        "required" => field(d, target)?
            .required
            .then_some(())
            .ok_or("not required".into()),
        "optional" => (!field(d, target)?.required)
            .then_some(())
            .ok_or("required".into()),
        "range" => {
            let f = field(d, target)?;
            let (lo, hi) = value.split_once("..").ok_or("range:a.b=lo..hi")?;
            let want = |s: &str| s.parse::<f64>().ok();
            if f.min == want(lo) && f.max == want(hi) {
                Ok(())
            } else {
                Err(format!("min {:?} max {:?}", f.min, f.max))
            }
        }
        "len" => {
            let f = field(d, target)?;
            let (lo, hi) = value.split_once("..").ok_or("len:a.b=lo..hi")?;
            let want = |s: &str| s.parse::<u32>().ok();
            if f.min_length == want(lo) && f.max_length == want(hi) {
                Ok(())
            } else {
                Err(format!(
                    "min_length {:?} max_length {:?}",
                    f.min_length, f.max_length
                ))
            }
        }
        "unit" => {
            let f = field(d, target)?;
            (f.unit.as_deref() == Some(value))
                .then_some(())
                .ok_or(format!("unit {:?}", f.unit))
        }
        "default" => {
            let f = field(d, target)?;
            let got = f.default.as_ref().map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            });
            (got.as_deref() == Some(value))
                .then_some(())
                .ok_or(format!("default {got:?}"))
        }
        "auth" => {
            let got = match &d.auth {
                AuthScheme::None => "none",
                AuthScheme::ApiKey { .. } => "api_key",
                AuthScheme::BearerJwt { .. } => "jwt",
            };
            (got == target)
                .then_some(())
                .ok_or(format!("auth is {got}"))
        }
        "title" => (d.title == target)
            .then_some(())
            .ok_or(format!("title is {:?}", d.title)),
        "page" => {
            let r = d.resource(target).ok_or("no resource")?;
            let l = r.operations.list.as_ref().ok_or("no list operation")?;
            let got = format!("{}..{}", l.default_page_size, l.max_page_size);
            (got == value).then_some(()).ok_or(format!("pages {got}"))
        }
        "readonly" => {
            let r = d.resource(target).ok_or("no resource")?;
            let o = &r.operations;
            (!o.create && !o.replace && !o.patch && !o.delete && o.get)
                .then_some(())
                .ok_or(format!("operations {o:?}"))
        }
        other => Err(format!("unknown expectation kind {other}")),
    }
}
