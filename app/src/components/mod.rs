//! Pieces shared by the pages: buttons, the modal dialog, the name field
//! with its counter, copy buttons, messages, tables, and text formatting.

pub mod buttons;
pub mod copy;
pub mod dialog;
pub mod feedback;
pub mod format;
pub mod name_field;
pub mod table;
