"""Invisible characters in a command's arguments: `bug` and `b\u200bug` read the same and are two labels, so the
command handler refuses an argument that holds one, naming it (`invisible_character`).

Refused: format characters (Unicode category Cf: zero-width space, right-to-left marks, word joiner, soft hyphen,
tags…), control characters (Cc), and characters that show nothing though they are letters, marks or symbols: the
combining grapheme joiner, Hangul fillers, Khmer inherent vowels, the Mongolian vowel separator, the braille blank.
Allowed where they belong to what is shown: a variation selector directly after an emoji (❤️, 🏳️), or in a keycap
(1️⃣), or a Mongolian one after a Mongolian letter; a zero-width joiner between two emoji (👩‍💻, 🏳️‍🌈, 🏃‍♀️).
What is an emoji, near enough: the pictographs of the supplementary planes (U+1F000–U+1FAFF) and the characters
of the BMP that Unicode gives the Emoji property (emoji-data.txt; not the whole blocks: ★ U+2605 is no emoji).
"""

from __future__ import annotations

import unicodedata

INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0\u17b4\u17b5\u180e\u2800")
ZWJ = "\u200d"
EMOJI_PRESENTATION = "\ufe0f"
KEYCAP, KEYCAP_BASES = "\u20e3", frozenset("#*0123456789")
PICTOGRAPHS = range(0x1F000, 0x1FB00)
MONGOLIAN = range(0x1800, 0x18B0)
MONGOLIAN_SELECTORS = frozenset("\u180b\u180c\u180d\u180f")
# the characters of the BMP with the Emoji property (emoji-data.txt), digits, `#` and `*` aside (keycaps only)
BMP_EMOJI = frozenset(chr(code) for first, last in (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122), (0x2139, 0x2139),
    (0x2194, 0x2199), (0x21A9, 0x21AA), (0x231A, 0x231B), (0x2328, 0x2328), (0x23CF, 0x23CF), (0x23E9, 0x23F3),
    (0x23F8, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x25AB), (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE),
    (0x2600, 0x2604), (0x260E, 0x260E), (0x2611, 0x2611), (0x2614, 0x2615), (0x2618, 0x2618), (0x261D, 0x261D),
    (0x2620, 0x2620), (0x2622, 0x2623), (0x2626, 0x2626), (0x262A, 0x262A), (0x262E, 0x262F), (0x2638, 0x263A),
    (0x2640, 0x2640), (0x2642, 0x2642), (0x2648, 0x2653), (0x265F, 0x2660), (0x2663, 0x2663), (0x2665, 0x2666),
    (0x2668, 0x2668), (0x267B, 0x267B), (0x267E, 0x267F), (0x2692, 0x2697), (0x2699, 0x2699), (0x269B, 0x269C),
    (0x26A0, 0x26A1), (0x26A7, 0x26A7), (0x26AA, 0x26AB), (0x26B0, 0x26B1), (0x26BD, 0x26BE), (0x26C4, 0x26C5),
    (0x26C8, 0x26C8), (0x26CE, 0x26CF), (0x26D1, 0x26D1), (0x26D3, 0x26D4), (0x26E9, 0x26EA), (0x26F0, 0x26F5),
    (0x26F7, 0x26FA), (0x26FD, 0x26FD), (0x2702, 0x2702), (0x2705, 0x2705), (0x2708, 0x270D), (0x270F, 0x270F),
    (0x2712, 0x2712), (0x2714, 0x2714), (0x2716, 0x2716), (0x271D, 0x271D), (0x2721, 0x2721), (0x2728, 0x2728),
    (0x2733, 0x2734), (0x2744, 0x2744), (0x2747, 0x2747), (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755),
    (0x2757, 0x2757), (0x2763, 0x2764), (0x2795, 0x2797), (0x27A1, 0x27A1), (0x27B0, 0x27B0), (0x27BF, 0x27BF),
    (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55), (0x3030, 0x3030),
    (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
) for code in range(first, last + 1))


def invisible_character(text: str) -> str | None:
    """The first invisible character of `text` that could make it look like something else, named as
    `U+200B ZERO WIDTH SPACE`; None when there is none."""
    if text.isascii() and text.isprintable():
        return None
    for index, char in enumerate(text):
        if _hides(text, index):
            fallback = "CONTROL CHARACTER" if unicodedata.category(char) == "Cc" else "FORMAT CHARACTER"
            return f"U+{ord(char):04X} {unicodedata.name(char, fallback)}"
    return None


def _hides(text: str, index: int) -> bool:
    char = text[index]
    if char == ZWJ:
        return not (_emoji_before(text, index) and index + 1 < len(text) and is_emoji(text[index + 1]))
    if _variation_selector(char):
        return not _selects(text, index)
    return char in INVISIBLE or unicodedata.category(char) in ("Cf", "Cc")


def is_emoji(char: str) -> bool:
    return ord(char) in PICTOGRAPHS or char in BMP_EMOJI


def _emoji_before(text: str, index: int) -> bool:
    """Whether an emoji (perhaps with its presentation selector) comes just before `index`."""
    before = index - 1
    if before >= 0 and text[before] == EMOJI_PRESENTATION:
        before -= 1
    return before >= 0 and is_emoji(text[before])


def _variation_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or char in MONGOLIAN_SELECTORS


def _selects(text: str, index: int) -> bool:
    """Whether the variation selector at `index` varies what comes before it: an emoji, a keycap's base (then
    U+20E3), a Mongolian letter (a Mongolian selector)."""
    if index == 0:
        return False
    char, before = text[index], text[index - 1]
    if char in MONGOLIAN_SELECTORS:
        return ord(before) in MONGOLIAN
    if before in KEYCAP_BASES:
        return char == EMOJI_PRESENTATION and text[index + 1:index + 2] == KEYCAP
    return is_emoji(before)
