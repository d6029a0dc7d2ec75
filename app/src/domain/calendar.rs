//! Business days for due dates: weekends and the city's non-working days.
//!
//! The days themselves live in the `holiday` table (administrators add the ones the city's
//! Gaceta announces each year); [`statutory_holidays`] computes the fixed part that seeds it:
//! the mandatory rest days of the Ley Federal del Trabajo (art. 74) plus the days the city's
//! offices close every year (Holy Thursday and Friday, 2 November).

use std::collections::BTreeSet;

use super::curp::Date;

/// Days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
pub fn days_from_civil(d: Date) -> i64 {
    let y = i64::from(d.year) - i64::from(d.month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(d.month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01.
pub fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    Date { year, month, day }
}

pub fn add_days(d: Date, days: i64) -> Date {
    civil_from_days(days_from_civil(d) + days)
}

/// 1 = Monday … 7 = Sunday.
pub fn weekday(d: Date) -> u32 {
    // 1970-01-01 was a Thursday.
    ((days_from_civil(d) + 3).rem_euclid(7) + 1) as u32
}

pub fn is_business_day(d: Date, holidays: &BTreeSet<Date>) -> bool {
    weekday(d) <= 5 && !holidays.contains(&d)
}

/// The date `n` business days after `start` (the day of the request does not count).
pub fn add_business_days(start: Date, n: u32, holidays: &BTreeSet<Date>) -> Date {
    let mut day = start;
    let mut left = n;
    while left > 0 {
        day = add_days(day, 1);
        if is_business_day(day, holidays) {
            left -= 1;
        }
    }
    day
}

/// Easter Sunday (anonymous Gregorian algorithm).
pub fn easter(year: i32) -> Date {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date {
        year,
        month: month as u32,
        day: day as u32,
    }
}

/// The `n`th Monday of a month.
fn nth_monday(year: i32, month: u32, n: u32) -> Date {
    let first = Date {
        year,
        month,
        day: 1,
    };
    let offset = (8 - weekday(first)) % 7;
    add_days(first, i64::from(offset + 7 * (n - 1)))
}

/// The non-working days every year brings, with a short code for their name.
pub fn statutory_holidays(year: i32) -> Vec<(Date, &'static str)> {
    let on = |month, day| Date { year, month, day };
    let easter = easter(year);
    let mut days = vec![
        (on(1, 1), "new_year"),
        (nth_monday(year, 2, 1), "constitution"),
        (nth_monday(year, 3, 3), "juarez"),
        (add_days(easter, -3), "holy_thursday"),
        (add_days(easter, -2), "good_friday"),
        (on(5, 1), "labour"),
        (on(9, 16), "independence"),
        (on(11, 2), "day_of_the_dead"),
        (nth_monday(year, 11, 3), "revolution"),
        (on(12, 25), "christmas"),
    ];
    // Transmission of the federal executive, every six years since 2024.
    if year >= 2024 && (year - 2024) % 6 == 0 {
        days.push((on(10, 1), "transmission"));
    }
    days.sort();
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Date {
        Date::new(y, m, d).unwrap()
    }

    #[test]
    fn days_round_trip_and_weekdays() {
        for days in (-800_000..800_000).step_by(997) {
            assert_eq!(days_from_civil(civil_from_days(days)), days);
        }
        assert_eq!(weekday(date(2026, 11, 21)), 6); // a Saturday
        assert_eq!(weekday(date(2000, 2, 29)), 2);
        assert_eq!(add_days(date(2024, 2, 28), 2), date(2024, 3, 1));
    }

    #[test]
    fn holidays_of_2026() {
        let days: Vec<Date> = statutory_holidays(2026)
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        assert_eq!(
            days,
            [
                date(2026, 1, 1),
                date(2026, 2, 2),
                date(2026, 3, 16),
                date(2026, 4, 2),
                date(2026, 4, 3),
                date(2026, 5, 1),
                date(2026, 9, 16),
                date(2026, 11, 2),
                date(2026, 11, 16),
                date(2026, 12, 25),
            ]
        );
        assert_eq!(easter(2025), date(2025, 4, 20));
        assert!(
            statutory_holidays(2030)
                .iter()
                .any(|(d, _)| *d == date(2030, 10, 1))
        );
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let holidays: BTreeSet<Date> = statutory_holidays(2026)
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        // Friday 13 Nov + 1 business day: Monday 16 is Revolution Day, so Tuesday 17.
        assert_eq!(
            add_business_days(date(2026, 11, 13), 1, &holidays),
            date(2026, 11, 17)
        );
        // A Saturday request: the count starts on Monday.
        assert_eq!(
            add_business_days(date(2026, 11, 21), 5, &holidays),
            date(2026, 11, 27)
        );
        assert_eq!(
            add_business_days(date(2026, 12, 21), 5, &holidays),
            date(2026, 12, 29)
        );
        assert_eq!(
            add_business_days(date(2026, 11, 21), 0, &holidays),
            date(2026, 11, 21)
        );
    }
}
