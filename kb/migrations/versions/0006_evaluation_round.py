"""evaluation_round: units scored with an indicator system, input and results kept

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table('evaluation_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system_code', text(length=40), nullable=False),
    sa.Column('version_label', text(length=32), nullable=False),
    sa.Column('created_by', text(length=120), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('units', sa.JSON(), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evaluation_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_round_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_evaluation_round_system_code'), ['system_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evaluation_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_round_system_code'))
        batch_op.drop_index(batch_op.f('ix_evaluation_round_created_at'))
    op.drop_table('evaluation_round')
