/* report: being built */
