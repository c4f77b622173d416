"""Generate a synthetic HubSpot-style contact export for the import benchmark.

Fixed seed, so every run writes the same file. Columns are those of a HubSpot contacts
export plus the preference columns a hospitality CRM carries; about 1 row in 500 is bad
(an invalid email or phone) so the rejects path is exercised too.

    .venv/bin/python scripts/gen_crm_export.py --rows 1000000 -o /tmp/crm-1m.csv
"""

from __future__ import annotations

import argparse
import csv
import gzip
import random
from pathlib import Path
from typing import IO

FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Christopher",
    "Lisa",
    "Daniel",
    "Nancy",
    "Matthew",
    "Betty",
    "Anthony",
    "Sandra",
    "Mark",
    "Margaret",
    "Donald",
    "Ashley",
    "Steven",
    "Kimberly",
    "Andrew",
    "Emily",
    "Paul",
    "Donna",
    "Joshua",
    "Michelle",
    "Kenneth",
    "Carol",
    "Kevin",
    "Amanda",
    "Brian",
    "Melissa",
    "George",
    "Deborah",
    "Timothy",
    "Stephanie",
    "Ronald",
    "Rebecca",
    "Jason",
    "Sharon",
    "Edward",
    "Laura",
    "Jeffrey",
    "Cynthia",
    "Ryan",
    "Amy",
    "Jacob",
    "Kathleen",
    "Gary",
    "Angela",
    "Nicholas",
    "Shirley",
    "Eric",
    "Brenda",
    "Jonathan",
    "Emma",
    "Stephen",
    "Anna",
    "Larry",
    "Pamela",
    "Justin",
    "Nicole",
    "Scott",
    "Samantha",
    "Brandon",
    "Katherine",
    "Benjamin",
    "Christine",
    "Samuel",
    "Helen",
    "Gregory",
    "Debra",
    "Alexander",
    "Rachel",
    "Patrick",
    "Carolyn",
    "Frank",
    "Janet",
    "Raymond",
    "Maria",
    "Jack",
    "Catherine",
    "Dennis",
    "Heather",
    "Jerry",
    "Diane",
    "Tyler",
    "Olivia",
    "Aaron",
    "Julie",
    "Jose",
    "Joyce",
    "Adam",
    "Victoria",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
    "Turner",
    "Diaz",
    "Parker",
    "Cruz",
    "Edwards",
    "Collins",
    "Reyes",
    "Stewart",
    "Morris",
    "Morales",
    "Murphy",
    "Cook",
    "Rogers",
    "Gutierrez",
    "Ortiz",
    "Morgan",
    "Cooper",
    "Peterson",
    "Bailey",
    "Reed",
    "Kelly",
    "Howard",
    "Ramos",
    "Kim",
    "Cox",
    "Ward",
    "Richardson",
    "Watson",
    "Brooks",
    "Chavez",
    "Wood",
    "James",
    "Bennett",
    "Gray",
]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "aol.com"]
AREA = ["212", "312", "415", "617", "206", "303", "512", "646", "702", "808", "919", "305"]
ALLERGIES = ["Peanuts (severe)", "Tree nuts", "Shellfish", "Sesame", "Eggs", "Soy", "Fish"]
DIETS = ["vegan", "vegetarian", "gluten-free", "halal", "kosher", "Lactose (intolerance)"]
DRINKS = ["Oat milk latte", "Espresso", "Chai latte", "Green tea", "Flat white", "Cold brew"]
DISLIKES = ["Cilantro", "Olives", "Mushrooms", "Loud music", "Blue cheese", "Anchovies"]
SEATS = ["Window table", "Booth", "Terrace", "Quiet corner", "Bar seat"]
STAGES = ["subscriber", "lead", "customer", "evangelist"]
TAGS = ["vip", "regular", "birthday-club", "newsletter", "corporate"]
NOTES = [
    "Prefers the same server when possible.",
    "Celebrates an anniversary every spring.",
    "Usually books for a party of four.",
    "Asks for the bill early; often in a hurry.",
]
HEADER = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Create Date",
    "Lifecycle Stage",
    "Contact owner",
    "City",
    "Allergies",
    "Dietary restrictions",
    "Favourite drink",
    "Dislikes",
    "Seating preference",
    "Tags",
    "Notes",
    "Loyalty number",
    "Preferred language",
]


def row(rng: random.Random, n: int) -> list[str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = f"{first}.{last}.{n}@{rng.choice(DOMAINS)}".lower()
    phone = f"({rng.choice(AREA)}) {rng.randint(201, 989)}-{rng.randint(0, 9999):04d}"
    if n % 500 == 7:
        email = email.replace("@", "")  # a bad row for the rejects file
    some = rng.random
    return [
        str(10_000_000 + n),
        first,
        last,
        email,
        phone,
        f"20{rng.randint(15, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} 10:00",
        rng.choice(STAGES),
        "owner@example.com",
        rng.choice(["Austin", "Boston", "Denver", "Seattle", "Miami", "Chicago"]),
        rng.choice(ALLERGIES) if some() < 0.12 else "",
        rng.choice(DIETS) if some() < 0.15 else "",
        rng.choice(DRINKS) if some() < 0.5 else "",
        rng.choice(DISLIKES) if some() < 0.2 else "",
        rng.choice(SEATS) if some() < 0.2 else "",
        rng.choice(TAGS) if some() < 0.3 else "",
        rng.choice(NOTES) if some() < 0.1 else "",
        f"L-{n}" if some() < 0.4 else "",
        rng.choice(["en", "es", "fr"]),
    ]


def write(out: IO[str], rows: int, seed: int) -> None:
    rng = random.Random(seed)
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for n in range(rows):
        writer.writerow(row(rng, n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("-o", "--output", type=Path, required=True, help="a .gz name is gzipped")
    args = parser.parse_args()
    if args.output.suffix == ".gz":
        with gzip.open(args.output, "wt", encoding="utf-8", newline="") as out:
            write(out, args.rows, args.seed)
    else:
        with args.output.open("w", encoding="utf-8", newline="") as out:
            write(out, args.rows, args.seed)


if __name__ == "__main__":
    main()
