/* rrule: being built */
