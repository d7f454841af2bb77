"""Who the synthetic applicants and staff are: names by nationality, with Cyrillic names
spelt the way documents spell them.

A Cyrillic name's Latin form is the passport spelling (ICAO 9303); the English (BGN) and
German spellings of older documents appear as aliases, so that name search is tried on the
variants it has to fold together (`cases.names.search_key`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from cases.models import Applicant

STAFF_GIVEN = (
    "Aistė",
    "Tomas",
    "Rūta",
    "Mantas",
    "Eglė",
    "Lukas",
    "Ieva",
    "Darius",
    "Greta",
    "Jonas",
    "Lina",
    "Paulius",
    "Vaida",
    "Marius",
    "Agnė",
    "Karolis",
    "Indrė",
    "Andrius",
)
STAFF_FAMILY = (
    "Kazlauskas", "Jankauskienė", "Petrauskas", "Stankevičiūtė", "Vasiliauskas", "Žukauskaitė",
    "Butkus", "Paulauskienė", "Urbonas", "Kavaliauskaitė", "Navickas", "Ramanauskienė",
)  # fmt: skip

CYR_MALE = (
    "Иван",
    "Алексей",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Юрий",
    "Михаил",
    "Николай",
    "Павел",
    "Владимир",
    "Артём",
    "Фёдор",
    "Евгений",
    "Максим",
    "Илья",
    "Тимур",
    "Руслан",
    "Фаррух",
    "Азамат",
    "Бахтияр",
    "Вячеслав",
    "Кирилл",
    "Олег",
    "Григорий",
    "Ярослав",
)
CYR_FEMALE = (
    "Анна",
    "Мария",
    "Екатерина",
    "Ольга",
    "Наталья",
    "Юлия",
    "Татьяна",
    "Светлана",
    "Ксения",
    "Дарья",
    "Алёна",
    "Зарина",
    "Гульнара",
    "Людмила",
    "Елизавета",
    "Софья",
)
CYR_FAMILY = (
    "Королёв", "Петров", "Смирнов", "Кузнецов", "Соколов", "Попов", "Лебедев", "Козлов",
    "Новиков", "Морозов", "Волков", "Соловьёв", "Васильев", "Зайцев", "Павлов", "Семёнов",
    "Голубев", "Виноградов", "Богданов", "Воробьёв", "Фёдоров", "Михайлов", "Беляев",
    "Тарасов", "Белов", "Комаров", "Орлов", "Киселёв", "Макаров", "Андреев", "Ковалёв",
    "Ильин", "Гусев", "Титов", "Кузьмин", "Кудрявцев", "Баранов", "Куликов", "Алексеев",
    "Степанов", "Яковлев", "Сорокин", "Сергеев", "Романов", "Захаров", "Борисов", "Щукин",
    "Юсупов", "Рахимов", "Каримов", "Назаров", "Исмаилов", "Жуков", "Цветков", "Хохлов",
    "Чернов", "Короленко", "Шевченко", "Бондаренко", "Ткаченко", "Коваленко", "Кравченко",
    "Олейник", "Шевчук", "Лукашевич", "Жданович", "Климович", "Мирзоев", "Шарипов", "Эргашев",
)  # fmt: skip

LATIN_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # nationality: (male given names, female given names, family names)
    "AF": (("Ahmad", "Mohammad", "Hamid", "Farid", "Wahid", "Nasir", "Jawad"),
           ("Fatima", "Zahra", "Mariam", "Parisa", "Nadia"),
           ("Hosseini", "Rahimi", "Ahmadi", "Karimi", "Sultani", "Nazari", "Haidari", "Popal")),
    "IQ": (("Ali", "Hassan", "Hussein", "Mustafa", "Omar", "Ahmed", "Karim"),
           ("Noor", "Aya", "Zainab", "Huda", "Layla"),
           ("Al-Jabouri", "Khalil", "Al-Obaidi", "Saleh", "Mansour", "Al-Tamimi", "Jasim")),
    "SY": (("Mohammed", "Khaled", "Samer", "Bashar", "Yousef", "Rami"),
           ("Rana", "Lina", "Hala", "Amal", "Dima"),
           ("Haddad", "Al-Hassan", "Khoury", "Darwish", "Hamdan", "Al-Ali", "Nasser")),
    "TR": (("Mehmet", "Mustafa", "Ahmet", "Emre", "Burak", "Çağlar"),
           ("Ayşe", "Elif", "Zeynep", "Gülşen", "Merve"),
           ("Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın")),
    "IN": (("Amit", "Rahul", "Gurpreet", "Sandeep", "Vikram"),
           ("Priya", "Anjali", "Harpreet", "Kavita"),
           ("Singh", "Kumar", "Sharma", "Patel", "Gill", "Kaur")),
    "LK": (("Nimal", "Kasun", "Ruwan", "Tharindu"),
           ("Dilani", "Nadeesha", "Chamari"),
           ("Perera", "Fernando", "Silva", "Jayasuriya", "Wickramasinghe")),
    "CU": (("José", "Yoandri", "Alejandro", "Raúl", "Yunior"),
           ("María", "Yaneisy", "Dayana", "Lourdes"),
           ("Rodríguez", "González", "Pérez", "Hernández", "Díaz", "Castillo")),
    "NG": (("Chinedu", "Emeka", "Oluwaseun", "Ibrahim", "Tunde"),
           ("Ngozi", "Adaeze", "Funmilayo", "Aisha"),
           ("Okafor", "Adeyemi", "Okonkwo", "Bello", "Eze", "Balogun")),
    "ER": (("Tesfaye", "Yonas", "Dawit", "Filmon", "Samuel"),
           ("Senait", "Helen", "Selam", "Mebrat"),
           ("Ghebremedhin", "Tesfamariam", "Haile", "Kidane", "Berhane")),
    "VN": (("Minh", "Tuấn", "Hùng", "Dũng"),
           ("Lan", "Hương", "Thảo"),
           ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng")),
}  # fmt: skip

# (nationality, weight, Cyrillic names?, languages)
NATIONALITIES: tuple[tuple[str, float, bool, str], ...] = (
    ("RU", 0.22, True, "Russian"),
    ("BY", 0.15, True, "Belarusian, Russian"),
    ("UA", 0.05, True, "Ukrainian, Russian"),
    ("TJ", 0.05, True, "Tajik, Russian"),
    ("KG", 0.03, True, "Kyrgyz, Russian"),
    ("KZ", 0.02, True, "Kazakh, Russian"),
    ("AF", 0.10, False, "Dari, Pashto"),
    ("IQ", 0.10, False, "Arabic, Kurdish"),
    ("SY", 0.07, False, "Arabic"),
    ("TR", 0.05, False, "Turkish"),
    ("IN", 0.04, False, "Hindi, Punjabi, English"),
    ("LK", 0.03, False, "Sinhala, Tamil"),
    ("CU", 0.03, False, "Spanish"),
    ("NG", 0.03, False, "English, Yoruba"),
    ("ER", 0.02, False, "Tigrinya"),
    ("VN", 0.01, False, "Vietnamese"),
    ("", 0.01, False, "Arabic"),  # stateless or unknown
)

_NATIONALITY_INDEXES = list(range(len(NATIONALITIES)))
_NATIONALITY_WEIGHTS = [n[1] for n in NATIONALITIES]

# Romanisations of Cyrillic: the passport (ICAO 9303) spelling is the Latin name; the
# English (BGN) and German spellings appear as aliases, as they do on older documents.
_ICAO = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}  # fmt: skip
_BGN = {**_ICAO, "ё": "yo", "й": "y", "ъ": "", "ю": "yu", "я": "ya"}
_GERMAN = {
    **_ICAO, "в": "w", "ё": "jo", "ж": "sch", "з": "s", "й": "j", "х": "ch", "ц": "z",
    "ч": "tsch", "ш": "sch", "щ": "schtsch", "ъ": "", "ы": "y", "ю": "ju", "я": "ja", "с": "s",
}  # fmt: skip


def romanise(text: str, table: dict[str, str]) -> str:
    """Cyrillic to Latin with one romanisation table, keeping capitals."""
    out = []
    for char in text:
        lower = char.lower()
        latin = table.get(lower)
        if latin is None:
            out.append(char)
        elif char != lower and latin:
            out.append(latin[0].upper() + latin[1:])
        else:
            out.append(latin)
    return "".join(out)


def _feminine(family: str) -> str:
    if family.endswith(("ов", "ев", "ёв", "ин")):
        return family + "а"
    return family


@dataclasses.dataclass(frozen=True, slots=True)
class Person:
    """One applicant as picked: names, nationality and what goes with them."""

    nationality: str
    languages: str
    sex: str
    given: str
    family: str
    original: str
    aliases: str  # one per line, as `Applicant.aliases` keeps them
    born: dt.date
    military: tuple[str, str, str]  # status, rank, unit (empty for most)


_SERVICE = Applicant.MilitaryStatus
_MILITARY = (
    (_SERVICE.OFFICER, "Captain", "Motor rifle brigade"),
    (_SERVICE.CONTRACT, "Sergeant", "Airborne regiment"),
    (_SERVICE.CONSCRIPT, "Private", ""),
    (_SERVICE.RESERVIST, "Junior sergeant", ""),
)


def pick_person(rng: random.Random, today: dt.date) -> Person:
    """An applicant by the weights of `NATIONALITIES`: about a third women, a few with a
    Russian or Belarusian military background."""
    index = rng.choices(_NATIONALITY_INDEXES, _NATIONALITY_WEIGHTS)[0]
    nationality, _weight, cyrillic, languages = NATIONALITIES[index]
    sex = Applicant.Sex.FEMALE if rng.random() < 0.3 else Applicant.Sex.MALE
    female = sex == Applicant.Sex.FEMALE
    aliases: list[str] = []
    original = ""
    if cyrillic:
        given_cyr = rng.choice(CYR_FEMALE if female else CYR_MALE)
        family_cyr = rng.choice(CYR_FAMILY)
        if female:
            family_cyr = _feminine(family_cyr)
        original = f"{given_cyr} {family_cyr}"
        given = romanise(given_cyr, _ICAO)
        family = romanise(family_cyr, _ICAO)
        for table in (_BGN, _GERMAN):
            variant = f"{romanise(given_cyr, table)} {romanise(family_cyr, table)}"
            if variant != f"{given} {family}" and variant not in aliases and rng.random() < 0.6:
                aliases.append(variant)
    else:
        male_names, female_names, families = LATIN_NAMES.get(nationality or "AF", LATIN_NAMES["AF"])
        given = rng.choice(female_names if female else male_names)
        family = rng.choice(families)
        if rng.random() < 0.15:
            aliases.append(f"{given} {family.replace('-', ' ')}".replace("Mohammad", "Muhammad"))
    born = today - dt.timedelta(days=rng.randint(17 * 365, 62 * 365))
    military = ("", "", "")
    if nationality in ("RU", "BY") and not female and rng.random() < 0.2:
        military = rng.choice(_MILITARY)
    return Person(
        nationality=nationality,
        languages=languages,
        sex=sex,
        given=given,
        family=family,
        original=original,
        aliases="\n".join(aliases),
        born=born,
        military=military,
    )
