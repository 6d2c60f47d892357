//! Calendar parts: an integer column whose last word names a part of the calendar (`Year`,
//! `Quarter`, `order_month`, `WeekDay`) is an attribute, not a number to sum.

use super::tokens::Words;

/// The calendar words. Plurals (`years`, `days`) are durations and are not here.
const CALENDAR_WORDS: &[&str] = &[
    "year", "yr", "fy", "semester", "quarter", "qtr", "month", "week", "weekday", "day", "date",
    "hour",
];

/// The calendar word that ends `words`, if any.
pub(super) fn calendar_part(words: &Words<'_>) -> Option<&'static str> {
    let last = words.last()?;
    CALENDAR_WORDS.iter().copied().find(|k| *k == last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_word_must_be_a_calendar_part() {
        let part = |name: &str| calendar_part(&Words::new(name));
        assert_eq!(part("Year"), Some("year"));
        assert_eq!(part("fiscal_quarter"), Some("quarter"));
        assert_eq!(part("OrderMonth"), Some("month"));
        assert_eq!(part("DAY"), Some("day"));
        assert_eq!(part("day_of_week"), Some("week"));
        assert_eq!(part("Holiday"), None);
        assert_eq!(part("Weekdays"), None);
        assert_eq!(part("lead_days"), None);
        assert_eq!(part("year_total"), None);
    }
}
