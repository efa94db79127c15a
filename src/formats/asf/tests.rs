//! Unit tests of the ASF reader and planner on headers built here.
