/* schedule: being built */
