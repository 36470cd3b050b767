//! The request date a Duo signature covers: RFC 2822 dates as the clients write them
//! (`Tue, 21 Aug 2012 17:29:18 -0000`), and whether one is recent enough to accept.

/// How far a request's date may be from the server's clock, in seconds, before the request is
/// refused: Duo's window (duo_unix's mock server uses the same 300 s), long enough for clock
/// drift, short enough that a captured request cannot be replayed for long.
pub const DEFAULT_DATE_WINDOW: i64 = 300;

/// Longest date header parsed; an RFC 2822 date is about 31 characters.
const MAX_DATE_LEN: usize = 64;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn number(text: &str, min_digits: usize, max_digits: usize) -> Option<i64> {
    let ok =
        (min_digits..=max_digits).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    if ok { text.parse().ok() } else { None }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian calendar).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The zone's offset east of UTC in seconds: `+hhmm`/`-hhmm` (duo_client writes `-0000`,
/// duo_unix `+0000`, duo_client with another `sig_timezone` any offset) or `GMT`, `UT`, `UTC`
/// (Python's `formatdate(usegmt=True)`).
fn zone_offset(zone: &str) -> Option<i64> {
    if matches!(zone, "GMT" | "UT" | "UTC") {
        return Some(0);
    }
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = zone.get(1..)?;
    let hours = number(digits.get(..2)?, 2, 2)?;
    let minutes = number(digits.get(2..)?, 2, 2)?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// Unix seconds of an RFC 2822 date as Duo's clients send it in `Date` or `X-Duo-Date`:
/// `[Day, ]DD Mon YYYY HH:MM[:SS] zone`, English names, a four-digit year. `None` for anything
/// else, including impossible dates (31 April). The weekday, when present, must be a real
/// weekday name but is not checked against the date, as Python's `parsedate_tz` does not. The
/// date's text is signed, so this parse only decides freshness, never what was signed.
pub fn parse_date(value: &str) -> Option<i64> {
    if value.len() > MAX_DATE_LEN {
        return None;
    }
    let rest = match value.split_once(',') {
        Some((weekday, rest)) => {
            if !WEEKDAYS.contains(&weekday.trim()) {
                return None;
            }
            rest
        }
        None => value,
    };
    let mut parts = rest.split_ascii_whitespace();
    let day = number(parts.next()?, 1, 2)?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|name| *name == month_name)?;
    let month = i64::try_from(month).ok()? + 1;
    let year = number(parts.next()?, 4, 4)?;
    let time = parts.next()?;
    let offset = zone_offset(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    let mut clock = time.split(':');
    let hour = number(clock.next()?, 2, 2)?;
    let minute = number(clock.next()?, 2, 2)?;
    let second = match clock.next() {
        Some(text) => number(text, 2, 2)?,
        None => 0,
    };
    if clock.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Whether a request dated `date_unix` may be accepted at `now`: at most `window` seconds
/// before or after it. The date is signed, so this bounds how long a captured request can be
/// replayed. A negative window accepts nothing.
pub fn date_is_fresh(date_unix: i64, now: i64, window: i64) -> bool {
    u64::try_from(window).is_ok_and(|window| date_unix.abs_diff(now) <= window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_dates_duo_clients_send() {
        // 2012-08-21T17:29:18Z, the example of Duo's Auth API documentation.
        assert_eq!(
            parse_date("Tue, 21 Aug 2012 17:29:18 -0000"),
            Some(1_345_570_158)
        );
        assert_eq!(
            parse_date("Tue, 21 Aug 2012 17:29:18 +0000"),
            Some(1_345_570_158)
        );
        assert_eq!(
            parse_date("Tue, 21 Aug 2012 17:29:18 GMT"),
            Some(1_345_570_158)
        );
        assert_eq!(parse_date("21 Aug 2012 17:29:18 UT"), Some(1_345_570_158));
        assert_eq!(
            parse_date("Tue, 21 Aug 2012 13:29:18 -0400"),
            Some(1_345_570_158)
        );
        assert_eq!(
            parse_date("Wed, 22 Aug 2012 03:59:18 +1030"),
            Some(1_345_570_158)
        );
        assert_eq!(parse_date("Thu, 01 Jan 1970 00:00:00 +0000"), Some(0));
        assert_eq!(parse_date("Thu, 1 Jan 1970 00:01 +0000"), Some(60));
        assert_eq!(
            parse_date("Thu, 29 Feb 2024 12:00:00 +0000"),
            Some(1_709_208_000)
        );
    }

    #[test]
    fn refuses_what_is_not_an_rfc_2822_date() {
        for bad in [
            "",
            "Tue, 21 Aug 2012 17:29:18",
            "Tue, 21 Aug 12 17:29:18 +0000",
            "Tue, 21 aug 2012 17:29:18 +0000",
            "Tue, 21 August 2012 17:29:18 +0000",
            "Tux, 21 Aug 2012 17:29:18 +0000",
            "Tue, 31 Apr 2012 17:29:18 +0000",
            "Thu, 29 Feb 2023 12:00:00 +0000",
            "Tue, 21 Aug 2012 24:00:00 +0000",
            "Tue, 21 Aug 2012 17:60:00 +0000",
            "Tue, 21 Aug 2012 17:29:18 +2400",
            "Tue, 21 Aug 2012 17:29:18 +00:00",
            "Tue, 21 Aug 2012 17:29:18 EST",
            "Tue, 21 Aug 2012 17:29:18 +0000 extra",
            "Tue, 21 Aug 2012 17:29:18:01 +0000",
            "Tue, 21 Aug 2012 1:29:18 +0000",
            "Tue, +21 Aug 2012 17:29:18 +0000",
            "2012-08-21T17:29:18Z",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        let long = format!("Tue, 21 Aug 2012 17:29:18 +0000{}", " ".repeat(64));
        assert_eq!(parse_date(&long), None);
    }

    #[test]
    fn freshness_is_a_window_on_both_sides() {
        let now = 1_345_570_158;
        assert!(date_is_fresh(now, now, DEFAULT_DATE_WINDOW));
        assert!(date_is_fresh(now - 300, now, DEFAULT_DATE_WINDOW));
        assert!(date_is_fresh(now + 300, now, DEFAULT_DATE_WINDOW));
        assert!(!date_is_fresh(now - 301, now, DEFAULT_DATE_WINDOW));
        assert!(!date_is_fresh(now + 301, now, DEFAULT_DATE_WINDOW));
        assert!(!date_is_fresh(now, now, -1));
        assert!(!date_is_fresh(i64::MIN, i64::MAX, DEFAULT_DATE_WINDOW));
    }
}
