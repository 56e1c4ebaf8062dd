import { Module } from '@nestjs/common';
import { GeoAnomalyService } from './geo-anomaly.service';

@Module({ providers: [GeoAnomalyService] })
export class AnomalyModule {}
