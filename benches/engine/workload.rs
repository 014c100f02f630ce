//! The listings: deterministic, realistic, about 1.74 KB of JSON each, generated in parts.
//!
//! Listing `i` is a function of `i` alone (a `fastrand` generator seeded with it), so every
//! contender gets the same listings without the whole batch ever being in memory. The next
//! day, about 10 % of listings change (new price and `updated_at`), about 1 % are gone, and
//! `N / 50` new ones follow.

use fastrand::Rng;
use serde_json::{Value as Json, json};

use crate::words::{CITIES, FEATURES, FIRST_NAMES, LAST_NAMES, STREETS, TYPES, WORDS};

const LISTING_SEED: u64 = 0x5EED_0000_0000_0001;
const FATE_SEED: u64 = 0x0DA7_0000_0000_0002;
const CHANGE_SEED: u64 = 0x0C4A_0000_0000_0003;

/// What happens to a listing on the second day.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Unchanged,
    Changed,
    Gone,
}

fn fate(i: u64) -> Fate {
    match Rng::with_seed(i ^ FATE_SEED).u32(0..1_000) {
        0..100 => Fate::Changed,
        100..110 => Fate::Gone,
        _ => Fate::Unchanged,
    }
}

/// Which day's scrape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Day {
    /// The first day: listings `0..N`.
    First,
    /// The next day: the first day's listings changed or gone, then `N / 50` new ones.
    Next,
}

/// The scrapes of two days for `n` first-day listings.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Listings on the first day.
    pub n: usize,
    /// Listings handed over at a time.
    pub part: usize,
    /// First-day listings that change on the next day.
    pub changed: usize,
    /// First-day listings gone on the next day.
    pub gone: usize,
    /// New listings on the next day.
    pub new: usize,
}

impl Workload {
    /// Counts the next day's fates (cheap: no listing is built).
    pub fn new(n: usize, part: usize) -> Self {
        let (mut changed, mut gone) = (0, 0);
        for i in 0..n as u64 {
            match fate(i) {
                Fate::Changed => changed += 1,
                Fate::Gone => gone += 1,
                Fate::Unchanged => {}
            }
        }
        Self {
            n,
            part,
            changed,
            gone,
            new: n / 50,
        }
    }

    /// Listings in `day`'s scrape.
    pub fn len(&self, day: Day) -> usize {
        match day {
            Day::First => self.n,
            Day::Next => self.n - self.gone + self.new,
        }
    }

    /// `day`'s scrape in parts of at most `self.part` listings, each built when asked for.
    pub fn parts(&self, day: Day) -> impl Iterator<Item = Vec<Json>> + use<> {
        let (n, part) = (self.n as u64, self.part);
        let ids: Box<dyn Iterator<Item = u64>> = match day {
            Day::First => Box::new(0..n),
            Day::Next => Box::new(
                (0..n)
                    .filter(|&i| fate(i) != Fate::Gone)
                    .chain(n..n + n / 50),
            ),
        };
        let mut ids = ids.peekable();
        std::iter::from_fn(move || {
            ids.peek()?;
            Some(
                ids.by_ref()
                    .take(part)
                    .map(|i| match day {
                        Day::Next if i < n && fate(i) == Fate::Changed => changed(i),
                        _ => listing(i),
                    })
                    .collect(),
            )
        })
    }

    /// Mean bytes of compact JSON of the first `sample` first-day listings.
    pub fn mean_bytes(&self, sample: usize) -> f64 {
        let sample = sample.min(self.n).max(1);
        let bytes: usize = (0..sample as u64)
            .map(|i| listing(i).to_string().len())
            .sum();
        bytes as f64 / sample as f64
    }
}

fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
    items[rng.usize(..items.len())]
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn date(rng: &mut Rng, year: u32, months: (u64, u64)) -> String {
    format!(
        "{year}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        rng.u64(months.0..=months.1),
        rng.u64(1..=28),
        rng.u64(0..=23),
        rng.u64(0..=59),
        rng.u64(0..=59)
    )
}

/// A 300–800 character description of sentences of `WORDS`.
fn description(rng: &mut Rng) -> String {
    let target_len = rng.usize(300..=800);
    let mut text = String::with_capacity(target_len + 16);
    let mut capital = true;
    while text.len() < target_len {
        let word = pick(rng, WORDS);
        if !text.is_empty() {
            text.push(' ');
        }
        if capital {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                text.extend(first.to_uppercase());
                text.push_str(chars.as_str());
            }
            capital = false;
        } else {
            text.push_str(word);
        }
        if rng.u32(0..12) == 0 {
            text.push('.');
            capital = true;
        }
    }
    let mut end = target_len.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('.');
    text
}

fn features(rng: &mut Rng) -> Vec<&'static str> {
    let mut features: Vec<&str> = Vec::new();
    for _ in 0..rng.usize(2..=8) {
        let feature = pick(rng, FEATURES);
        if !features.contains(&feature) {
            features.push(feature);
        }
    }
    features
}

fn agent(rng: &mut Rng) -> Json {
    let (first, last) = (pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES));
    let email: String = format!("{first}.{last}")
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii() && *c != ' ')
        .collect();
    let mut digits = || rng.u32(100..=999);
    let phone = format!("{:03} {:03} {:03}", digits(), digits(), digits());
    json!({
        "name": format!("{first} {last}"),
        "phone": format!("+{} {phone}", rng.u32(30..=49)),
        "email": format!("{email}@agency-example.com"),
    })
}

/// Listing number `i` as the first day's scrape sees it.
pub fn listing(i: u64) -> Json {
    let mut rng = Rng::with_seed(i ^ LISTING_SEED);
    let id = format!("LST-{i:08}");
    let (city, country, lat, lng) = CITIES[rng.usize(..CITIES.len())];
    let kind = pick(&mut rng, TYPES);
    let bedrooms = rng.u64(0..=6);
    let bathrooms = rng.u64(1..=1 + bedrooms.max(1) / 2 + 1);
    let area = rng.u64(25 + bedrooms * 15..=60 + bedrooms * 40);
    let price = area * rng.u64(1_800..=7_500) / 1_000 * 1_000;
    let street = format!("{} {}", pick(&mut rng, STREETS), rng.u32(1..=250));
    let description = description(&mut rng);
    let features = features(&mut rng);
    let images: Vec<String> = (0..rng.usize(3..=15))
        .map(|k| {
            let name = rng.u64(..1 << 48);
            format!("https://cdn.listings-example.com/img/{id}/{k:02}-{name:012x}.jpg")
        })
        .collect();
    let agent = agent(&mut rng);
    json!({
        "id": id,
        "title": format!("{bedrooms}-bedroom {kind} in {city}"),
        "description": description,
        "price": price,
        "currency": "EUR",
        "address": {
            "street": street,
            "city": city,
            "postcode": format!("{:05}", rng.u32(1_000..=99_999)),
            "country": country,
            "lat": round6(lat + (rng.f64() - 0.5) * 0.1),
            "lng": round6(lng + (rng.f64() - 0.5) * 0.1),
        },
        "bedrooms": bedrooms,
        "bathrooms": bathrooms,
        "area_m2": area,
        "type": kind,
        "features": features,
        "images": images,
        "agent": agent,
        "listed_at": date(&mut rng, 2026, (1, 6)),
        "updated_at": date(&mut rng, 2026, (7, 10)),
    })
}

/// Listing `i` as the next day's scrape sees it when it changed: new price, new date.
fn changed(i: u64) -> Json {
    let mut item = listing(i);
    let mut rng = Rng::with_seed(i ^ CHANGE_SEED);
    if let Some(object) = item.as_object_mut() {
        let price = object
            .get("price")
            .and_then(Json::as_u64)
            .unwrap_or(100_000);
        let factor = rng.u64(900..=1_050);
        object.insert("price".into(), json!(price * factor / 1_000 / 500 * 500));
        let (hour, minute) = (rng.u32(0..=23), rng.u32(0..=59));
        let at = format!("2026-11-25T{hour:02}:{minute:02}:00Z");
        object.insert("updated_at".into(), json!(at));
    }
    item
}
