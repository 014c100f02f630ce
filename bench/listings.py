#!/usr/bin/env python3
"""Writes N realistic listings (~1.7 KB each) as NDJSON to stdout: `listings.py N [PREFIX] [SEED]`."""
import json
import random
import sys

WORDS = ("bright spacious renovated quiet central modern charming cosy elegant sunny "
         "garden balcony terrace parking kitchen bathroom bedroom view canal park school "
         "station shops transport heating insulation floor windows storage lift").split()
CITIES = [("Amsterdam", 52.37, 4.89), ("Rotterdam", 51.92, 4.48), ("Utrecht", 52.09, 5.12),
          ("Lyon", 45.76, 4.84), ("Berlin", 52.52, 13.40), ("Madrid", 40.42, -3.70)]
TYPES = ["apartment", "house", "studio", "villa", "loft", "penthouse"]
FEATURES = ["balcony", "garden", "parking", "lift", "cellar", "fireplace", "pool", "solar panels",
            "heat pump", "bike storage", "air conditioning", "terrace"]


def listing(rng, i, prefix):
    city, lat, lng = rng.choice(CITIES)
    words = []
    while len(" ".join(words)) < rng.randint(300, 800):
        words.append(rng.choice(WORDS))
    area = []
    while len(" ".join(area)) < rng.randint(250, 550):
        area.append(rng.choice(WORDS))
    return {
        "id": f"{prefix}{i}",
        "title": f"{rng.choice(WORDS).capitalize()} {rng.choice(TYPES)} in {city}",
        "description": " ".join(words),
        "price": rng.randint(80, 2500) * 1000,
        "currency": "EUR",
        "address": {"street": f"{rng.choice(WORDS).capitalize()}straat {rng.randint(1, 300)}",
                    "city": city, "postcode": f"{rng.randint(1000, 9999)} AB", "country": "NL",
                    "lat": round(lat + rng.uniform(-0.1, 0.1), 6), "lng": round(lng + rng.uniform(-0.1, 0.1), 6)},
        "bedrooms": rng.randint(1, 6), "bathrooms": rng.randint(1, 3), "area_m2": rng.randint(25, 400),
        "type": rng.choice(TYPES),
        "features": rng.sample(FEATURES, rng.randint(2, 6)),
        "images": [f"https://img.example.com/{prefix}{i}/{n}.jpg" for n in range(rng.randint(3, 15))],
        "agent": {"name": "Agent " + rng.choice(WORDS).capitalize(), "phone": f"+31 6 {rng.randint(10000000, 99999999)}",
                  "email": f"agent{rng.randint(1, 99)}@agency.example"},
        "neighbourhood": " ".join(area),
        "listed_at": f"2026-{rng.randint(1, 10):02d}-{rng.randint(1, 28):02d}",
        "updated_at": f"2026-11-{rng.randint(1, 24):02d}",
    }


def main():
    n = int(sys.argv[1])
    prefix = sys.argv[2] if len(sys.argv) > 2 else "L"
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
    out = sys.stdout
    for i in range(n):
        out.write(json.dumps(listing(rng, i, prefix)))
        out.write("\n")


if __name__ == "__main__":
    main()
