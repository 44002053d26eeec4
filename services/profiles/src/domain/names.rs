//! Search folding for customer names: "stefan" finds "Ștefan" (DESIGN: SearchCustomers ignores
//! case and diacritics). The folded form is a search key stored beside the name, never shown.

use std::collections::BTreeSet;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Folds a name (or a query) to its search key: lowercase, Latin and Greek diacritics removed,
/// Latin letters that have no decomposition spelled out (ł → l, ß → ss, æ → ae, …), every run of
/// whitespace and punctuation turned into one space, trimmed.
///
/// Only marks on Latin and Greek letters are removed. Elsewhere a mark is part of the letter —
/// Cyrillic й is not и, Japanese が is not か, a Devanagari virama changes the word — so other
/// scripts keep their marks and are only lowercased. Apostrophes, the Catalan middle dot and
/// invisible joiners are removed rather than turned into a space, so "O'Brien", "O’Brien" and
/// "OBrien" fold alike, as do "Paŀlars" and "Pallars". Final sigma folds to σ so a name typed
/// in capitals finds the same name typed in lowercase.
pub fn fold_for_search(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    // Whether a combining mark met now belongs to a Latin or Greek letter (and is dropped).
    // Starts true so that a stray mark at the very start is dropped too.
    let mut marks_fold = true;
    let mut separator_pending = false;

    // NFKC first: it composes marks typed separately onto their letters (so the per-script
    // decision below sees whole letters) and maps compatibility forms (ﬁ, fullwidth Ｓ, ²).
    for c in text.chars().filter(|&c| !is_removed(c)).nfkc() {
        if is_removed(c) {
            // NFKC can produce one: ŀ becomes l + middle dot.
            continue;
        }
        if is_combining_mark(c) {
            if !marks_fold {
                folded.push(c);
            }
            continue;
        }
        if !c.is_alphanumeric() {
            // A mark on a space or a dash is an accent typed on its own: drop it.
            marks_fold = true;
            separator_pending = true;
            continue;
        }
        if separator_pending && !folded.is_empty() {
            folded.push(' ');
        }
        separator_pending = false;
        marks_fold = has_foldable_marks(c);
        if marks_fold {
            decompose_canonical(c, |part| {
                if !is_combining_mark(part) {
                    push_lowercase_folded(&mut folded, part);
                }
            });
        } else {
            push_lowercase_folded(&mut folded, c);
        }
    }
    folded
}

/// How many leading characters of a word a name key holds. Every prefix up to this length is a
/// key, so a query word finds its candidates with one equality lookup (collation-proof on
/// PostgreSQL, ordered by customer id for keyset paging); a longer query word is looked up by
/// its longest key ([`LONG_KEY_CHARS`]) and checked against the folded name.
pub const NAME_KEY_CHARS: usize = 6;

/// Longer keys: a word's prefixes of exactly these lengths, from the start of a word only
/// (migration 8). A long query word is looked up by the longest of them it has, so
/// "grosssanmann" walks the names beginning "grosssanmann", not every name beginning "grosss"
/// (at 1 M customers such words made the slowest searches: 18–25 ms).
pub const LONG_KEY_CHARS: [usize; 2] = [8, 12];

/// The name keys of a folded name (a [`fold_for_search`] result): every prefix of every word, up
/// to [`NAME_KEY_CHARS`] characters, and its prefixes of [`LONG_KEY_CHARS`] characters. A query
/// word matches a name when it begins one of the name's words, so its key ([`query_key`]) is
/// among these. The migrations that backfill keys (7 and 8) compute the same set in SQL; the
/// two must agree.
///
/// Scripts written without spaces between words (Han, kana, Hangul, Thai, ...) have no word
/// starts to go by: "민준" must find "김민준" and "小龍" must find "李小龍", as the substring
/// search before the index did. In those scripts every character starts keys of its own, of up
/// to [`NAME_KEY_CHARS`] characters.
pub fn name_keys(search_name: &str) -> BTreeSet<String> {
    let longest = LONG_KEY_CHARS[LONG_KEY_CHARS.len() - 1];
    let mut keys = BTreeSet::new();
    for word in search_name.split(' ').filter(|w| !w.is_empty()) {
        for (start, c) in word.char_indices() {
            if start > 0 && !is_unspaced(c) {
                continue;
            }
            let mut key = String::new();
            for (length, c) in (1..).zip(word[start..].chars().take(longest)) {
                key.push(c);
                if length <= NAME_KEY_CHARS || (start == 0 && LONG_KEY_CHARS.contains(&length)) {
                    keys.insert(key.clone());
                }
            }
        }
    }
    keys
}

/// Whether `c` belongs to a script written without spaces between words, where a query word
/// may begin anywhere in a name's word: CJK ideographs, kana, Hangul, and the Southeast Asian
/// scripts (Thai, Lao, Myanmar, Khmer).
pub fn is_unspaced(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}' // Thai, Lao
        | '\u{1000}'..='\u{109F}' // Myanmar
        | '\u{1100}'..='\u{11FF}' // Hangul Jamo
        | '\u{1780}'..='\u{17FF}' // Khmer
        | '\u{3040}'..='\u{30FF}' // Hiragana, Katakana
        | '\u{3130}'..='\u{318F}' // Hangul compatibility Jamo
        | '\u{31F0}'..='\u{31FF}' // Katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}' // Hangul syllables
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{20000}'..='\u{3FFFF}' // CJK extensions B onwards
    )
}

/// The key a folded query word is looked up by: the word itself up to [`NAME_KEY_CHARS`]
/// characters, else its longest prefix of [`LONG_KEY_CHARS`] characters — or of
/// [`NAME_KEY_CHARS`] in a script written without spaces, where the word may begin inside a
/// name's word and only the shorter keys start there.
pub fn query_key(word: &str) -> &str {
    let characters = word.chars().count();
    let length = if word.starts_with(is_unspaced) {
        characters.min(NAME_KEY_CHARS)
    } else {
        LONG_KEY_CHARS
            .into_iter()
            .rev()
            .find(|&n| n <= characters)
            .unwrap_or(characters.min(NAME_KEY_CHARS))
    };
    match word.char_indices().nth(length) {
        Some((end, _)) => &word[..end],
        None => word,
    }
}

/// Escapes `\`, `%` and `_` so that `text` matches itself literally inside a SQL
/// `LIKE ... ESCAPE '\'` pattern (both SQLite and PostgreSQL honour the clause).
pub fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Characters that join the letters around them rather than separating words.
fn is_removed(c: char) -> bool {
    matches!(
        c,
        '\'' | '`'
            | '\u{00B4}' // acute accent used as an apostrophe
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201B}'
            | '\u{02BB}' // ʻokina
            | '\u{02BC}' // modifier letter apostrophe
            | '\u{00B7}' // Catalan middle dot (l·l)
            | '\u{00AD}' // soft hyphen
            | '\u{200B}'
            ..='\u{200D}' // zero-width space, non-joiner, joiner
            | '\u{2060}'
            | '\u{FEFF}'
    )
}

/// Latin (with the Latin-1 and IPA blocks) and Greek: the scripts whose marks are accents that
/// people routinely leave out when typing a name.
fn has_foldable_marks(c: char) -> bool {
    c.is_ascii()
        || matches!(
            c,
            '\u{00A0}'..='\u{02AF}' // Latin-1 Supplement, Latin Extended-A/B, IPA
                | '\u{0370}'..='\u{03FF}' // Greek and Coptic
                | '\u{1D00}'..='\u{1DBF}' // phonetic extensions
                | '\u{1E00}'..='\u{1FFF}' // Latin Extended Additional, Greek Extended
                | '\u{2C60}'..='\u{2C7F}' // Latin Extended-C
                | '\u{A720}'..='\u{A7FF}' // Latin Extended-D
                | '\u{AB30}'..='\u{AB6F}' // Latin Extended-E
        )
}

fn push_lowercase_folded(folded: &mut String, c: char) {
    for lower in c.to_lowercase() {
        match lower {
            // Letters with a stroke, ligatures and runes: no Unicode decomposition exists.
            'ł' | 'ŀ' => folded.push('l'),
            'đ' | 'ð' => folded.push('d'),
            'ø' => folded.push('o'),
            'ħ' => folded.push('h'),
            'ŧ' => folded.push('t'),
            'ı' => folded.push('i'),
            'ß' => folded.push_str("ss"),
            'æ' => folded.push_str("ae"),
            'œ' => folded.push_str("oe"),
            'þ' => folded.push_str("th"),
            'ς' => folded.push('σ'),
            other => folded.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn romanian_comma_and_cedilla_forms_fold_alike() {
        assert_eq!(fold_for_search("Ștefan"), "stefan");
        assert_eq!(fold_for_search("ŞTEFAN"), "stefan");
        // Already decomposed input (S + combining comma below) folds the same.
        assert_eq!(fold_for_search("S\u{0326}tefan"), "stefan");
    }

    #[test]
    fn diacritics_are_removed_from_latin_names() {
        assert_eq!(fold_for_search("Jūratė"), "jurate");
        assert_eq!(fold_for_search("Núria"), "nuria");
        assert_eq!(
            fold_for_search("Nguyễn Thị Minh Khai"),
            "nguyen thi minh khai"
        );
        assert_eq!(fold_for_search("İlkay Gündoğan"), "ilkay gundogan");
        assert_eq!(fold_for_search("François Müller"), "francois muller");
    }

    #[test]
    fn letters_without_a_decomposition_are_spelled_out() {
        assert_eq!(fold_for_search("Łukasiewicz"), "lukasiewicz");
        assert_eq!(fold_for_search("Straße"), "strasse");
        assert_eq!(fold_for_search("STRAẞE"), "strasse");
        assert_eq!(fold_for_search("Øystein"), "oystein");
        assert_eq!(fold_for_search("Đorđe"), "dorde");
        assert_eq!(fold_for_search("Guðrún Þórsdóttir"), "gudrun thorsdottir");
        assert_eq!(fold_for_search("Æsa Œuvre"), "aesa oeuvre");
        assert_eq!(fold_for_search("Ħamrun Ŧ ı"), "hamrun t i");
    }

    #[test]
    fn catalan_middle_dot_and_apostrophes_join_rather_than_separate() {
        assert_eq!(fold_for_search("Paŀlars"), "pallars");
        assert_eq!(fold_for_search("Pal·lars"), "pallars");
        assert_eq!(fold_for_search("O'Brien"), "obrien");
        assert_eq!(fold_for_search("O’Brien"), "obrien");
        assert_eq!(fold_for_search("Hawaiʻi"), "hawaii");
    }

    #[test]
    fn whitespace_and_punctuation_collapse_to_one_space() {
        assert_eq!(fold_for_search("  Ana   María "), "ana maria");
        assert_eq!(fold_for_search("Jean-Luc\t\nPicard,"), "jean luc picard");
        assert_eq!(fold_for_search("«Ana»  —  María."), "ana maria");
        assert_eq!(fold_for_search("Ana\u{00A0}María"), "ana maria");
        assert_eq!(fold_for_search(" \t-. "), "");
        assert_eq!(fold_for_search(""), "");
    }

    #[test]
    fn compatibility_forms_fold_to_plain_letters() {
        assert_eq!(fold_for_search("Ｓｔｅｆａｎ"), "stefan");
        assert_eq!(fold_for_search("\u{FB01}ona"), "fiona");
    }

    #[test]
    fn other_scripts_are_only_lowercased() {
        assert_eq!(fold_for_search("Дмитрий"), "дмитрий");
        assert_eq!(fold_for_search("ЙОГАНН Ёлкин"), "йоганн ёлкин");
        assert_eq!(fold_for_search("李小龍"), "李小龍");
        assert_eq!(fold_for_search("ガブリエル"), "ガブリエル");
        assert_eq!(fold_for_search("김민준"), "김민준");
        assert_eq!(fold_for_search("हिन्दी"), "हिन्दी");
        assert_eq!(fold_for_search("محمد"), "محمد");
    }

    #[test]
    fn greek_accents_and_final_sigma_fold() {
        assert_eq!(fold_for_search("Δημήτρης"), "δημητρησ");
        assert_eq!(fold_for_search("ΔΗΜΗΤΡΗΣ"), "δημητρησ");
    }

    #[test]
    fn folding_is_idempotent() {
        for name in [
            "Ștefan Łukasiewicz",
            "Paŀlars",
            "Дмитрий",
            "Δημήτρης",
            "  Ana   María ",
        ] {
            let once = fold_for_search(name);
            assert_eq!(fold_for_search(&once), once, "{name}");
        }
    }

    #[test]
    fn like_wildcards_and_the_escape_character_are_escaped() {
        assert_eq!(escape_like(r"50%_off\now"), r"50\%\_off\\now");
        assert_eq!(escape_like("stefan"), "stefan");
        assert_eq!(escape_like(""), "");
    }

    #[test]
    fn name_keys_are_the_first_characters_of_every_word() {
        let keys: Vec<String> = name_keys("ana maria popescu").into_iter().collect();
        assert_eq!(
            keys,
            [
                "a", "an", "ana", "m", "ma", "mar", "mari", "maria", "p", "po", "pop", "pope",
                "popes", "popesc"
            ]
        );
        assert!(name_keys("").is_empty());
        // Characters, not bytes: a key never splits a letter.
        assert!(name_keys("李小龍").contains("李小"));
        // Scripts without spaces: every character starts keys, so a given name is found.
        assert!(name_keys("李小龍").contains("小龍"));
        assert!(name_keys("김민준").contains("민준"));
        assert!(name_keys("やまだ たろう").contains("まだ"));
        // Spaced scripts only at word starts.
        assert!(!name_keys("popescu").contains("escu"));
        assert!(!name_keys("дмитрий").contains("митрий"));
        assert!(name_keys("дмитрий").contains("дмитри"));
        // Longer words: their prefixes of 8 and 12 characters too, and no others.
        let keys = name_keys("wolfeschlegelsteinhausen");
        assert!(keys.contains("wolfesch") && keys.contains("wolfeschlege"));
        assert_eq!(keys.len(), 8);
        assert_eq!(name_keys("lukasiewicz").len(), 7);
        // Not inside a word written without spaces: there the keys stay short.
        let keys = name_keys("やまだたろうさん");
        assert!(!keys.contains("やまだたろうさ") && keys.contains("やまだたろうさん"));
        assert!(
            keys.iter()
                .all(|k| k.chars().count() <= 6 || k.starts_with('や'))
        );
    }

    #[test]
    fn a_query_word_is_looked_up_by_a_key_its_name_holds() {
        assert_eq!(query_key("popescu"), "popesc");
        assert_eq!(query_key("ion"), "ion");
        assert_eq!(query_key("ştefan"), "ştefan");
        // A longer word by its longest key: 8 characters of 11, 12 of 15.
        assert_eq!(query_key("lukasiewicz"), "lukasiew");
        assert_eq!(query_key("wolfeschlegels"), "wolfeschlege");
        // Characters, not bytes: a Devanagari word keeps its marks.
        assert_eq!(query_key("हिन्दीभाषा"), "हिन्दीभा");
        // Written without spaces, a word may begin inside a name's word: six at most.
        assert_eq!(query_key("やまだたろうさん"), "やまだたろう");
        for (name, query) in [
            ("ana maria popescu", "popes"),
            ("δημητρησ παπαδοπουλοσ", "παπα"),
            ("jan lukasiewicz", "lukasiewicz"),
            ("jan lukasiewicz", "lukasiew"),
            ("jan lukasiewicz", "lukasie"),
            ("hubert wolfeschlegelsteinhausen", "wolfeschlegelstein"),
            ("やまだたろうさん", "まだたろうさん"),
        ] {
            let folded = fold_for_search(query);
            assert!(name_keys(name).contains(query_key(&folded)), "{query}");
        }
    }
}
