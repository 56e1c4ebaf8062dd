import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BlockedIp } from './entities/blocked-ip.entity';
import { HoneypotController, ScannerDecoyController } from './honeypot.controller';
import { IpBlocklistService } from './ip-blocklist.service';

@Module({
  imports: [TypeOrmModule.forFeature([BlockedIp])],
  controllers: [HoneypotController, ScannerDecoyController],
  providers: [IpBlocklistService],
  exports: [IpBlocklistService],
})
export class HoneypotModule {}
