//! Escaping for each place text is shown. Event values are attacker-controlled: a
//! username can carry `<!channel>`, a fake link, a closing code fence, newlines that
//! forge fields, terminal escape sequences or right-to-left overrides.

/// The one definition of the characters that must never reach a terminal, a Slack
/// message, Markdown or an e-mail raw: they change how the text around them reads
/// without being seen. Renderers escape them, and the hostile-input tests and fuzz
/// targets check for exactly this set. It is Unicode's control (Cc), format (Cf),
/// line and paragraph separator (Zl, Zp) characters, plus the invisible fillers and
/// selectors that are letters or marks by category.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Cf: soft hyphen, Arabic and Syriac marks, Mongolian vowel separator
            '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}' | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{180E}'
            // Cf: zero-width characters, bidi marks, embeddings, overrides and isolates, invisible operators
            | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
            // Zl, Zp: U+2028 and U+2029 end a line in many terminals and editors
            | '\u{2028}' | '\u{2029}'
            // Cf: byte-order mark, interlinear annotations, and the astral format characters
            | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}'
            // Invisible by design though not Cf: combining grapheme joiner, Hangul fillers,
            // Khmer inherent vowels, Mongolian and other variation selectors
            | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180D}' | '\u{180F}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}'
        )
}

/// One line of plain text: control, bidi and zero-width characters become visible
/// `\u{…}` escapes (newlines `\n`), so nothing can forge lines or hide text.
pub fn inline(text: &str) -> String {
    let printable_ascii = text.bytes().all(|b| (0x20..0x7f).contains(&b));
    if printable_ascii || !text.chars().any(is_unsafe_char) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Slack mrkdwn: `&`, `<`, `>` are the characters Slack asks to escape, and
/// escaping them disarms `<!channel>`, `<@U…>` and `<url|label>` links. Backticks
/// become `ˋ` so a value can neither open a code block in prose nor close one.
pub fn mrkdwn(text: &str) -> String {
    let text = inline(text);
    if !text.contains(['&', '<', '>', '`']) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push('\u{02CB}'),
            c => out.push(c),
        }
    }
    out
}

/// Markdown prose: every character with Markdown or HTML meaning is backslash-escaped.
/// The prose starts at its first visible character, and a `-` or list number there is
/// escaped: at the start of a block (a paragraph, a list item, a quote) four spaces
/// would open an indented code block, and `- `, `1. ` a list.
pub fn markdown(text: &str) -> String {
    let line = inline(text);
    let line = line.trim_start_matches(' ');
    let number = line.bytes().take_while(u8::is_ascii_digit).count();
    let mut out = String::with_capacity(line.len() + 8);
    for (at, c) in line.char_indices() {
        let list_marker = (at == 0 && c == '-') || (at == number && number > 0 && (c == '.' || c == ')'));
        if list_marker || "\\`*_{}[]()<>#+!|~&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A fence longer than any backtick run in `body`, so the body cannot close it.
pub fn markdown_fence(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// Prose in Amazon Q Developer in chat applications (AWS Chatbot) `client-markdown`,
/// which Chatbot renders in each chat client's own markdown (Slack mrkdwn, Teams
/// markdown): no escape sequence means the same in both (Slack has no backslash escapes,
/// and what Chatbot does with `&lt;` is not documented). So every character with a
/// meaning becomes a look-alike with none: `<` `>` `&` (mentions, links, HTML,
/// entities), `*` `~` (emphasis), backticks (code), the `](` of a Markdown link, and `_`
/// or `@` unless inside a word, where neither client reads them (`EC2_LINUX`,
/// `jdoe@example.com` stay as they are).
/// <https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html>
pub fn client_markdown(text: &str) -> String {
    let text = inline(text);
    let chars: Vec<char> = text.chars().collect();
    let word = |i: Option<usize>| i.and_then(|i| chars.get(i)).is_some_and(|c| c.is_alphanumeric());
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let (before, after) = (word(i.checked_sub(1)), word(Some(i + 1)));
        out.push(match c {
            '_' if !(before && after) => '\u{FF3F}',
            '@' if !before => '\u{FF20}',
            ']' if chars.get(i + 1) == Some(&'(') => '\u{FF3D}',
            '*' => '\u{2217}',
            '~' => '\u{223C}',
            c => client_markdown_literal(c),
        });
    }
    out
}

/// Text shown as code (a span or block) in `client-markdown`: the clients show it as
/// written, so only what could end the code or start a Slack control sequence changes:
/// a backtick, and `<` (`&` and `>` stay: commands use `&&` and `>`, and without `<`
/// they form no mention or link).
pub fn client_markdown_code(text: &str) -> String {
    inline(text).chars().map(|c| if c == '>' || c == '&' { c } else { client_markdown_literal(c) }).collect()
}

/// The look-alikes both `client-markdown` escapes share.
fn client_markdown_literal(c: char) -> char {
    match c {
        '<' => '\u{FF1C}',
        '>' => '\u{FF1E}',
        '&' => '\u{FF06}',
        '`' => '\u{02CB}',
        c => c,
    }
}

/// Cuts `text` to at most `max` characters, marking the cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(1);
    let mut out: String = text.chars().take(keep).collect();
    out.push('…');
    out
}

/// `truncate` for `client-markdown` prose already escaped: a `_` the cut leaves just
/// before the ellipsis is no longer inside a word, so it becomes its look-alike too.
pub fn truncate_client_markdown(escaped: &str, max: usize) -> String {
    let cut = truncate(escaped, max);
    match cut.strip_suffix("_…") {
        Some(head) => format!("{head}\u{FF3F}…"),
        None => cut,
    }
}

/// SNS subjects: printable ASCII only, one line, under 100 characters.
pub fn sns_subject(text: &str) -> String {
    let ascii: String = text.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect();
    truncate(ascii.trim(), 99).replace('…', "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `fields` fuzz target: a caller ARN of spaces opened the explanation
    /// with an indented code block.
    #[test]
    fn markdown_prose_opens_no_block() {
        assert_eq!(markdown("        may not call"), "may not call");
        assert_eq!(markdown("- a"), "\\- a");
        assert_eq!(markdown("12. b"), "12\\. b");
        assert_eq!(markdown("3) c"), "3\\) c");
        assert_eq!(markdown("a - 1. b"), "a - 1. b");
    }

    #[test]
    fn inline_makes_invisible_characters_visible() {
        assert_eq!(inline("a\nb"), "a\\nb");
        assert_eq!(inline("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(inline("\u{1b}[31m"), "\\u{001b}[31m");
        assert_eq!(inline("plain"), "plain");
        assert_eq!(inline("a\u{2028}b\u{2029}c\u{85}"), "a\\u{2028}b\\u{2029}c\\u{0085}");
        assert_eq!(inline("tag\u{E0041}"), "tag\\u{e0041}");
    }

    #[test]
    fn mrkdwn_disarms_mentions_and_links() {
        assert_eq!(mrkdwn("<!channel> & <https://evil|x>"), "&lt;!channel&gt; &amp; &lt;https://evil|x&gt;");
    }

    #[test]
    fn client_markdown_disarms_every_sequence_but_keeps_words() {
        let hostile = "<!channel> <https://evil|x> *b* _i_ ~s~ `c` [l](https://evil) @here a\nb";
        let prose = client_markdown(hostile);
        for raw in ["<", ">", "*", "~", "`", "](", " _", "_ ", " @", "\n"] {
            assert!(!prose.contains(raw), "{raw:?} in {prose}");
        }
        assert!(prose.ends_with("\u{FF20}here a\\nb"), "{prose}");
        assert_eq!(client_markdown("EC2_LINUX for jdoe@example.com & co"), "EC2_LINUX for jdoe@example.com \u{FF06} co");
        assert_eq!(client_markdown_code("x && y > f `z` <!here>"), "x && y > f \u{02CB}z\u{02CB} \u{FF1C}!here>");
    }

    #[test]
    fn fences_outgrow_their_body() {
        assert_eq!(markdown_fence("a ``` b"), "````");
        assert_eq!(markdown_fence("plain"), "```");
    }

    #[test]
    fn subjects_are_ascii_and_short() {
        let s = sns_subject(&format!("héllo\n{}", "x".repeat(300)));
        assert!(s.len() < 100 && s.is_ascii() && !s.contains('\n'));
    }
}
