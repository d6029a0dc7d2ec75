//! Reading the CSV files other systems write — INEGI's census tables, agencies' exports: UTF-8
//! with or without a byte-order mark or Latin-1, `,` or `;` between fields. Shared by
//! `angel import census` and the legacy import.

/// The file as text: UTF-8 (a BOM dropped) or, when it is not valid UTF-8, Latin-1 (as INEGI and
/// many Windows programs write), every byte its own character.
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// The field separator a header line uses: `;` when it has more of them than `,`, else `,`.
/// `None` for an empty text.
pub fn delimiter(text: &str) -> Option<u8> {
    let header = text.lines().next()?;
    Some(
        if header.matches(';').count() > header.matches(',').count() {
            b';'
        } else {
            b','
        },
    )
}

/// A CSV reader over decoded text with its separator detected, fields trimmed, the first line
/// the header. `None` for an empty text.
pub fn reader(text: &str) -> Option<csv::Reader<&[u8]>> {
    Some(builder(text)?.from_reader(text.as_bytes()))
}

/// [`reader`] for reading records out of order (`csv::Reader::seek`): a seek drops the
/// reader's buffer, so it is small, about a record's size.
pub fn seekable_reader(text: &str) -> Option<csv::Reader<std::io::Cursor<&[u8]>>> {
    Some(
        builder(text)?
            .buffer_capacity(1024)
            .from_reader(std::io::Cursor::new(text.as_bytes())),
    )
}

fn builder(text: &str) -> Option<csv::ReaderBuilder> {
    let mut builder = csv::ReaderBuilder::new();
    builder.delimiter(delimiter(text)?).trim(csv::Trim::All);
    Some(builder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_or_without_bom_and_latin1() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFnombre;alcald\xC3\xADa"),
            "nombre;alcaldía"
        );
        assert_eq!(decode("Peña".as_bytes()), "Peña");
        assert_eq!(decode(b"Pe\xF1a;Tl\xE1huac"), "Peña;Tláhuac");
    }

    #[test]
    fn separator_from_the_header() {
        assert_eq!(delimiter("a;b;c\n1,5;2;3"), Some(b';'));
        assert_eq!(delimiter("a,b,c\n1;2;3;4"), Some(b','));
        assert_eq!(delimiter("solo"), Some(b','));
        assert_eq!(delimiter(""), None);
        let mut rows = reader("curp ; nombre\n X ; Ana ").unwrap();
        assert_eq!(
            rows.headers().unwrap().iter().collect::<Vec<_>>(),
            ["curp", "nombre"]
        );
        let record = rows.records().next().unwrap().unwrap();
        assert_eq!(record.iter().collect::<Vec<_>>(), ["X", "Ana"]);
    }
}
