//! Escaping for each place text is shown. Event values are attacker-controlled: a
//! username can carry `<!channel>`, a fake link, a closing code fence, newlines that
//! forge fields, terminal escape sequences or right-to-left overrides.

/// Characters that change how surrounding text reads without being seen.
fn is_invisible_or_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}' | '\u{00AD}')
}

/// One line of plain text: control, bidi and zero-width characters become visible
/// `\u{…}` escapes (newlines `\n`), so nothing can forge lines or hide text.
pub fn inline(text: &str) -> String {
    let printable_ascii = text.bytes().all(|b| (0x20..0x7f).contains(&b));
    if printable_ascii || !text.chars().any(is_invisible_or_control) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_invisible_or_control(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
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
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in inline(text).chars() {
        if "\\`*_{}[]()<>#+!|~&".contains(c) {
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

/// SNS subjects: printable ASCII only, one line, under 100 characters.
pub fn sns_subject(text: &str) -> String {
    let ascii: String = text.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect();
    truncate(ascii.trim(), 99).replace('…', "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_makes_invisible_characters_visible() {
        assert_eq!(inline("a\nb"), "a\\nb");
        assert_eq!(inline("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(inline("\u{1b}[31m"), "\\u{001b}[31m");
        assert_eq!(inline("plain"), "plain");
    }

    #[test]
    fn mrkdwn_disarms_mentions_and_links() {
        assert_eq!(mrkdwn("<!channel> & <https://evil|x>"), "&lt;!channel&gt; &amp; &lt;https://evil|x&gt;");
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
