//! Condition operators: the names IAM accepts and what each one means.
//!
//! An operator is a base comparison (`StringLike`), optionally suffixed `IfExists` (true when the key is
//! absent) and optionally prefixed `ForAnyValue:`/`ForAllValues:` (how multivalued keys combine). Names are
//! case-sensitive, as in IAM; anything else is rejected with IAM's "Invalid Condition type" so a typo in a
//! policy fails at upload instead of silently never matching.

use std::fmt;
use std::str::FromStr;

use crate::error::PolicyError;

/// A condition operator without its `IfExists` suffix or set qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnNotEquals,
    ArnLike,
    ArnNotLike,
    Null,
}

const ALL_BASE: [BaseOperator; 27] = {
    use BaseOperator::*;
    [
        StringEquals,
        StringNotEquals,
        StringEqualsIgnoreCase,
        StringNotEqualsIgnoreCase,
        StringLike,
        StringNotLike,
        NumericEquals,
        NumericNotEquals,
        NumericLessThan,
        NumericLessThanEquals,
        NumericGreaterThan,
        NumericGreaterThanEquals,
        DateEquals,
        DateNotEquals,
        DateLessThan,
        DateLessThanEquals,
        DateGreaterThan,
        DateGreaterThanEquals,
        Bool,
        BinaryEquals,
        IpAddress,
        NotIpAddress,
        ArnEquals,
        ArnNotEquals,
        ArnLike,
        ArnNotLike,
        Null,
    ]
};

impl BaseOperator {
    /// The operator's name as written in policies.
    pub fn name(&self) -> &'static str {
        use BaseOperator::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnNotEquals => "ArnNotEquals",
            ArnLike => "ArnLike",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    /// Parse an exact operator name (IAM's operator names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        ALL_BASE.iter().copied().find(|op| op.name() == name)
    }

    /// Negated operators NOR their values and are true when the key is absent.
    pub fn is_negated(&self) -> bool {
        self.positive() != *self
    }

    /// The non-negated counterpart (`StringNotLike` → `StringLike`); itself for positive operators.
    pub fn positive(&self) -> Self {
        use BaseOperator::*;
        match self {
            StringNotEquals => StringEquals,
            StringNotEqualsIgnoreCase => StringEqualsIgnoreCase,
            StringNotLike => StringLike,
            NumericNotEquals => NumericEquals,
            DateNotEquals => DateEquals,
            NotIpAddress => IpAddress,
            ArnNotEquals => ArnEquals,
            ArnNotLike => ArnLike,
            other => *other,
        }
    }

    /// Whether policy variables are substituted in this operator's values (string and ARN operators).
    pub(crate) fn takes_variables(&self) -> bool {
        use BaseOperator::*;
        matches!(
            self.positive(),
            StringEquals | StringEqualsIgnoreCase | StringLike | ArnEquals | ArnLike
        )
    }
}

/// `ForAnyValue:` / `ForAllValues:`, for multivalued keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

impl SetQualifier {
    pub fn name(&self) -> &'static str {
        match self {
            SetQualifier::ForAnyValue => "ForAnyValue",
            SetQualifier::ForAllValues => "ForAllValues",
        }
    }
}

/// A full condition operator such as `ForAllValues:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    pub qualifier: Option<SetQualifier>,
    pub base: BaseOperator,
    pub if_exists: bool,
}

impl FromStr for Operator {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || PolicyError::UnknownConditionOperator(s.to_string());
        let (qualifier, rest) = if let Some(r) = s.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else if let Some(r) = s.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else {
            (None, s)
        };
        let (if_exists, rest) = match rest.strip_suffix("IfExists") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let base = BaseOperator::from_name(rest).ok_or_else(unknown)?;
        // IAM: "You can add IfExists to the end of any condition operator name except the Null condition".
        if if_exists && base == BaseOperator::Null {
            return Err(unknown());
        }
        Ok(Operator {
            qualifier,
            base,
            if_exists,
        })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(q) = self.qualifier {
            write!(f, "{}:", q.name())?;
        }
        f.write_str(self.base.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names_round_trip() {
        for s in [
            "StringEquals",
            "ForAllValues:StringLikeIfExists",
            "ForAnyValue:ArnNotLike",
            "DateGreaterThanEquals",
            "Null",
        ] {
            assert_eq!(s.parse::<Operator>().unwrap().to_string(), s);
        }
        for bad in [
            "StringEqual",
            "stringequals",
            "NullIfExists",
            "ForSomeValues:StringEquals",
            "",
        ] {
            assert!(
                matches!(
                    bad.parse::<Operator>(),
                    Err(PolicyError::UnknownConditionOperator(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(
            PolicyError::UnknownConditionOperator("X".into()).detail(),
            Some("X")
        );
    }
}
